import CloakData
import CloakDatasetProtection
import CloakImage
import Foundation

/// The size at which a network trains on a folder's images, and whether that fits in memory.
///
/// Without `--size`, `cloak unlearnable` and `cloak verify` work at the first image's own size, resampling
/// any other size to it, unless that image is larger than ``automaticLongSide`` on its longer side: then at
/// its size scaled down to that (photos of 4000x3000 pixels would need tens of gigabytes a batch). Before
/// anything is loaded, ``check(images:size:batch:model:noiseCopies:path:)`` estimates the memory the job
/// needs and refuses, with the numbers and what to lower, a job that would not fit.
enum WorkingSize {
    /// Longer side of the automatic working size for large images (the reference's ImageNet-subset size).
    static let automaticLongSide = 224

    /// `requested` when given; else the first readable image's own size (as decoded, EXIF orientation
    /// applied), scaled down to ``automaticLongSide`` on its longer side when larger. `nil` when no image
    /// of `indices` can be read (the loader then reports them).
    static func choose(requested: (width: Int, height: Int)?, folder: ImageFolder, indices: [Int])
        -> (size: (width: Int, height: Int), note: String?)? {
        if let requested { return (requested, nil) }
        for i in indices {
            guard let image = try? ImageCodec.decode(path: folder.samples[i].path).image else { continue }
            let (w, h) = (image.width, image.height)
            let long = max(w, h)
            guard long > automaticLongSide else { return ((w, h), nil) }
            let scale = Double(automaticLongSide) / Double(long)
            let size = (width: max(8, Int((Double(w) * scale).rounded())), height: max(8, Int((Double(h) * scale).rounded())))
            return (size, "the images are large (the first is \(w)x\(h)); working at \(size.width)x\(size.height) "
                    + "(`size` chooses); each output keeps its own size")
        }
        return nil
    }

    /// Estimated bytes: the images as floats (3 channels assumed until they are decoded), `noiseCopies`
    /// more arrays of that size (sample-wise noise and its saved state), and one training batch.
    static func estimatedBytes(images: Int, size: (width: Int, height: Int), batch: Int,
                               model: UnlearnableSettings.Model, noiseCopies: Int) -> Int64 {
        let pixels = Int64(size.width) * Int64(size.height)
        let data = Int64(images) * pixels * 3 * 4 * Int64(1 + noiseCopies)
        return data + Int64(min(batch, images)) * pixels * Int64(SurrogateModels.bytesPerBatchPixel(model)) + 300 << 20
    }

    /// Throws ``WorkingSizeError/tooLarge`` when the estimate exceeds 80% of the machine's memory.
    static func check(images: Int, size: (width: Int, height: Int), batch: Int, model: UnlearnableSettings.Model,
                      noiseCopies: Int, path: String, memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        let need = estimatedBytes(images: images, size: size, batch: batch, model: model, noiseCopies: noiseCopies)
        let allowed = Int64(Double(memory) * 0.8)
        guard need > allowed else { return }
        // The largest batch that fits: the estimate grows by one image's activations per image in the batch.
        let perImage = Int64(size.width) * Int64(size.height) * Int64(SurrogateModels.bytesPerBatchPixel(model))
        let withoutBatch = estimatedBytes(images: images, size: size, batch: 0, model: model, noiseCopies: noiseCopies)
        let fitting = perImage > 0 ? Int((allowed - withoutBatch) / perImage) : 0
        throw WorkingSizeError.tooLarge(path: path, images: images, width: size.width, height: size.height,
                                        batch: min(batch, max(1, images)),
                                        neededBytes: need, memoryBytes: Int64(memory),
                                        fittingBatch: fitting >= 1 ? fitting : nil)
    }
}

/// A job too large for this machine's memory.
public enum WorkingSizeError: Error, LocalizedError, Equatable {
    case tooLarge(path: String, images: Int, width: Int, height: Int, batch: Int, neededBytes: Int64, memoryBytes: Int64,
                  fittingBatch: Int?)

    public var errorDescription: String? {
        switch self {
        case .tooLarge(let path, let images, let width, let height, let batch, let need, let memory, let fitting):
            let gb = { (bytes: Int64) in String(format: "%.1f GB", Double(bytes) / 1e9) }
            let advice = fitting.map { "lower `batchSize` to \($0) or less, or `size`" }
                ?? "lower `size`, or use fewer images (`limitPerClass`)"
            return "\(path): \(images) images at \(width)x\(height) in batches of \(batch) need about \(gb(need)) of memory, "
                + "more than this machine's \(gb(memory)) allows; nothing was loaded: \(advice)"
        }
    }
}
