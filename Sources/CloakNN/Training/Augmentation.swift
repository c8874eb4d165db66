import CloakTensor

/// Training-time augmentations applied per image to an NHWC batch, as torchvision's
/// `RandomCrop(size, padding)` and `RandomHorizontalFlip()`.
public struct Augmentation: Sendable {
    /// Zero padding on every side before a random crop back to the original size (0 disables the crop).
    public var cropPadding: Int
    /// Mirror each image left-right with probability 1/2.
    public var horizontalFlip: Bool

    /// Creates an augmentation; the defaults (no crop, no flip) leave batches unchanged.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0, "Crop padding must be non-negative")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// The standard CIFAR recipe: 4-pixel padded random crop and horizontal flip.
    public static let standard = Augmentation(cropPadding: 4, horizontalFlip: true)

    /// Returns an augmented copy of `batch` (`[N, H, W, C]`).
    public func apply(to batch: Tensor, using generator: inout some RandomNumberGenerator) -> Tensor {
        guard cropPadding > 0 || horizontalFlip else { return batch }
        let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        let p = cropPadding
        var plans: [(dy: Int, dx: Int, flip: Bool)] = []
        for _ in 0..<n {
            let dy = p > 0 ? Int(generator.next() % UInt64(2 * p + 1)) - p : 0
            let dx = p > 0 ? Int(generator.next() % UInt64(2 * p + 1)) - p : 0
            let flip = horizontalFlip && generator.next() & 1 == 1
            plans.append((dy, dx, flip))
        }
        return Tensor(shape: batch.shape) { out in
            batch.withUnsafeBufferPointer { src in
                for (image, plan) in plans.enumerated() {
                    let base = image * h * w * c
                    for y in 0..<h {
                        for x in 0..<w {
                            // Output (y, x) reads input (y + dy, x' + dx), x' mirrored when flipping; outside is zero.
                            let sy = y + plan.dy, sx = (plan.flip ? w - 1 - x : x) + plan.dx
                            let o = base + (y * w + x) * c
                            if sy < 0 || sy >= h || sx < 0 || sx >= w {
                                for k in 0..<c { out[o + k] = 0 }
                            } else {
                                let s = base + (sy * w + sx) * c
                                for k in 0..<c { out[o + k] = src[s + k] }
                            }
                        }
                    }
                }
            }
        }
    }
}
