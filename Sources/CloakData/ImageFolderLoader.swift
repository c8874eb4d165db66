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
        let chosen = indices ?? Array(samples.indices)
        var decoded: [(image: RGBImage, label: Int, path: String)] = []
        decoded.reserveCapacity(chosen.count)
        var failures = problems
        for (n, i) in chosen.enumerated() {
            let (path, label) = samples[i]
            do {
                decoded.append((try ImageCodec.decode(path: path, options: decodeOptions).image, label, path))
            } catch {
                failures.append(WalkProblem(path: path, reason: Self.reason(error, path: path)))
            }
            progress(n + 1)
        }
        let w = size?.width ?? decoded.first?.image.width ?? 1
        let h = size?.height ?? decoded.first?.image.height ?? 1
        let c = channels ?? (decoded.allSatisfy { $0.image.isGrayscale } ? 1 : 3)
        precondition(c == 1 || c == 3, "channels must be 1 or 3, got \(c)")
        var pixels = [Float]()
        pixels.reserveCapacity(decoded.count * w * h * c)
        for item in decoded {
            let src = c == 1 ? item.image.floatLuma : item.image.floatRGB
            pixels += Resize.auto(src, width: item.image.width, height: item.image.height, channels: c, toWidth: w, toHeight: h)
        }
        return LoadedImageFolder(
            pixels: pixels, labels: decoded.map(\.label), paths: decoded.map(\.path),
            originalSizes: decoded.map { ($0.image.width, $0.image.height) }, classes: classes,
            width: w, height: h, channels: c, failures: failures)
    }

    /// The error's message without a repeated path prefix.
    static func reason(_ error: Error, path: String) -> String {
        let message = error.localizedDescription
        let prefix = path + ": "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }
}
