import CloakImage
import CloakNN
import CloakTensor
import Foundation

/// The known ways to break unlearnable data, applied when training the verifier's models.
public enum Countermeasure: String, Codable, Sendable, CaseIterable {
    /// Train on the data as given.
    case none
    /// Re-encode every training image as JPEG quality 10 (Image Shortcut Squeezing, Liu et al. 2023).
    case jpeg10
    /// Train on greyscale copies (colour data only; ISS).
    case grayscale
    /// Random crop with 4 pixels of padding plus horizontal flip, every batch.
    case augment
    /// PGD adversarial training (Madry et al.): eps 8/255, step 2/255, a settable number of steps.
    case adversarial
    /// A 3x3 median filter on every training image, per channel, edges replicated (as OpenCV's `medianBlur`): it
    /// removes isolated pixels, which breaks the one-pixel shortcut (OPS).
    case median
    /// Bit-depth reduction to the top ``ImageFilters/bitDepth`` bits of every sample (ISS's bit-depth reduction, as
    /// torchvision's `RandomPosterize(bits: 4, p: 1)`): perturbations smaller than a step mostly vanish.
    case bitdepth

    /// Transforms the training images once, before training (JPEG, greyscale, median, bit depth); the others act
    /// during training. Layout: NHWC floats in [0, 1].
    /// - Throws: ``CountermeasureError/jpegRoundTripFailed(image:reason:)`` when an image cannot be re-encoded (the
    ///   countermeasure is never silently skipped for an image).
    public func prepare(_ data: LabelledImages) throws(CountermeasureError) -> LabelledImages {
        switch self {
        case .jpeg10:
            var out = data
            let size = data.imageSize
            for i in 0..<data.count {
                let image = RGBImage(floats: Array(data.pixels[(i * size)..<((i + 1) * size)]),
                                     width: data.width, height: data.height, channels: data.channels)
                let back: RGBImage
                do {
                    let bytes = try ImageCodec.encode(image, as: .jpeg, options: EncodeOptions(jpegQuality: 10))
                    back = try ImageCodec.decode(bytes: bytes, path: "jpeg10").image
                } catch {
                    throw .jpegRoundTripFailed(image: i, reason: error.localizedDescription)
                }
                let floats = data.channels == 1 ? back.floatLuma : back.floatRGB
                out.pixels.replaceSubrange((i * size)..<((i + 1) * size), with: floats)
            }
            return out
        case .grayscale:
            guard data.channels == 3 else { return data }
            var out = data
            for p in 0..<(data.count * data.height * data.width) {
                let y = 0.299 * data.pixels[3 * p] + 0.587 * data.pixels[3 * p + 1] + 0.114 * data.pixels[3 * p + 2]
                out.pixels[3 * p] = y; out.pixels[3 * p + 1] = y; out.pixels[3 * p + 2] = y
            }
            return out
        case .median:
            return ImageFilters.eachImage(of: data, ImageFilters.median3x3)
        case .bitdepth:
            return ImageFilters.eachImage(of: data, ImageFilters.reducedBitDepth)
        case .none, .augment, .adversarial:
            return data
        }
    }

    /// Whether the countermeasure means anything for data with `channels` channels.
    public func applies(toChannels channels: Int) -> Bool {
        self != .grayscale || channels == 3
    }
}

/// A countermeasure that could not be applied.
public enum CountermeasureError: Error, LocalizedError, Equatable {
    /// Image `image` (its index in the training data) could not be JPEG-encoded and decoded again.
    case jpegRoundTripFailed(image: Int, reason: String)

    public var errorDescription: String? {
        switch self {
        case .jpegRoundTripFailed(let image, let reason):
            return "jpeg10: training image \(image) could not be re-encoded as JPEG quality 10 (\(reason)); no model was trained"
        }
    }
}
