import CloakImage
import Foundation

/// The images of an ``ImageFolder`` decoded into one float array, ready for training.
///
/// Layout: `pixels` holds `count` images of `height x width x channels` floats in [0, 1], NHWC (image
/// after image, row-major, channels interleaved). Images whose size differs from the working size are
/// resampled (area average when shrinking, bilinear when enlarging); `originalSizes` keeps each one's own
/// size so outputs can be written back at it.
public struct LoadedImageFolder: Sendable {
    public var pixels: [Float]
    public var labels: [Int]
    public var paths: [String]
    public var originalSizes: [(width: Int, height: Int)]
    public var classes: [String]
    public var width: Int
    public var height: Int
    /// 1 when every image is grey, else 3.
    public var channels: Int
    /// Files that could not be used, with the reason (message starts with the path).
    public var failures: [WalkProblem]

    public var count: Int { labels.count }

    /// The floats of image `i` (HWC).
    public func image(_ i: Int) -> ArraySlice<Float> {
        let n = width * height * channels
        return pixels[(i * n)..<((i + 1) * n)]
    }
}

extension ImageFolder {
    /// Decodes every image (in ``samples`` order) at a working size.
    ///
    /// - Parameters:
    ///   - size: working `(width, height)`; `nil` takes the first image's size (then every image must
    ///     have it, or it is resampled to it).
    ///   - channels: 1 (grey, BT.601 luma) or 3; `nil` picks 1 when every image is grey, else 3.
    ///   - indices: which samples to load (default all), in the order given.
    ///   - progress: called after each image.
    /// - Returns: the loaded images; undecodable files are listed in `failures` and skipped.
    public func load(size: (width: Int, height: Int)? = nil, channels: Int? = nil, indices: [Int]? = nil,
                     decodeOptions: DecodeOptions = DecodeOptions(), progress: (Int) -> Void = { _ in }) -> LoadedImageFolder {
        precondition(channels == nil || channels == 1 || channels == 3, "channels must be 1 or 3, got \(channels!)")
        let chosen = indices ?? Array(samples.indices)
        // Each image is brought to the working size as soon as it is decoded, so a folder of large photos
        // never holds more than one of them at full size.
        var slots: [Slot] = []
        slots.reserveCapacity(chosen.count)
        var labels: [Int] = [], paths: [String] = [], sizes: [(width: Int, height: Int)] = []
        var working = size
        var allGrey = true
        var failures = problems
        for (n, i) in chosen.enumerated() {
            let (path, label) = samples[i]
            do {
                let image = try ImageCodec.decode(path: path, options: decodeOptions).image
                let (w, h) = working ?? (image.width, image.height)
                working = (w, h)
                let grey = image.isGrayscale
                allGrey = allGrey && grey
                if image.width == w && image.height == h {
                    slots.append(.atWorkingSize(image))
                } else if channels == 1 || (channels == nil && grey) {
                    slots.append(.luma(Resize.auto(image.floatLuma, width: image.width, height: image.height, channels: 1,
                                                   toWidth: w, toHeight: h)))
                } else {
                    slots.append(.rgb(Resize.auto(image.floatRGB, width: image.width, height: image.height, channels: 3,
                                                  toWidth: w, toHeight: h)))
                }
                labels.append(label)
                paths.append(path)
                sizes.append((image.width, image.height))
            } catch {
                failures.append(WalkProblem(path: path, reason: Self.reason(error, path: path)))
            }
            progress(n + 1)
        }
        let (w, h) = working ?? (1, 1)
        let c = channels ?? (allGrey ? 1 : 3)
        var pixels = [Float]()
        pixels.reserveCapacity(slots.count * w * h * c)
        for slot in slots {
            switch slot {
            case .atWorkingSize(let image):
                pixels += Resize.auto(c == 1 ? image.floatLuma : image.floatRGB, width: w, height: h, channels: c,
                                      toWidth: w, toHeight: h)
            case .luma(let luma):
                if c == 1 {
                    pixels += luma
                } else {
                    for v in luma { pixels.append(v); pixels.append(v); pixels.append(v) }
                }
            case .rgb(let rgb):
                pixels += rgb   // only when c == 3: a colour image makes the set colour, or 3 channels were asked for
            }
        }
        return LoadedImageFolder(pixels: pixels, labels: labels, paths: paths, originalSizes: sizes, classes: classes,
                                 width: w, height: h, channels: c, failures: failures)
    }

    /// One decoded image on its way into ``LoadedImageFolder/pixels``.
    private enum Slot {
        /// Already at the working size: converted once the channel count is known.
        case atWorkingSize(RGBImage)
        /// Resized on arrival: a grey image (1 channel) or a colour one (3 channels, HWC).
        case luma([Float])
        case rgb([Float])
    }

    /// The error's message without a repeated path prefix.
    static func reason(_ error: Error, path: String) -> String {
        let message = error.localizedDescription
        let prefix = path + ": "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }
}
