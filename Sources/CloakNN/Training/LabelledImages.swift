import CloakTensor

/// A labelled image data set held in memory as `Float` pixels, the engine's view of training data.
///
/// Layout: `pixels` holds `count` images in NHWC order (`[count, height, width, channels]`), usually scaled to
/// [0, 1]; `labels[i]` is the class index of image `i`. Readers for image folders and IDX files (CloakData)
/// produce this type.
public struct LabelledImages: Sendable {
    /// All images in NHWC order, `count · height · width · channels` values.
    public var pixels: [Float]
    /// The class index of each image.
    public var labels: [Int]
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// Channels per pixel (1 for grey, 3 for RGB).
    public let channels: Int

    /// Wraps pixels and labels; `pixels.count` must be `labels.count · height · width · channels`.
    public init(pixels: [Float], labels: [Int], height: Int, width: Int, channels: Int) {
        precondition(height > 0 && width > 0 && channels > 0, "Image dimensions must be positive")
        precondition(pixels.count == labels.count * height * width * channels,
                     "\(pixels.count) pixels do not make \(labels.count) images of \(height)x\(width)x\(channels)")
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// The number of images.
    public var count: Int { labels.count }
    /// Values per image (`height · width · channels`).
    public var imageSize: Int { height * width * channels }
    /// The number of classes, taken as the largest label plus one.
    public var classCount: Int { (labels.max() ?? -1) + 1 }

    /// The images at `indices` as one NHWC batch `[indices.count, height, width, channels]`, with their labels.
    public func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int]) {
        let size = imageSize
        let images = Tensor(shape: [indices.count, height, width, channels]) { out in
            pixels.withUnsafeBufferPointer { src in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "Image index \(index) out of range 0..<\(count)")
                    (out.baseAddress! + row * size).update(from: src.baseAddress! + index * size, count: size)
                }
            }
        }
        return (images, indices.map { labels[$0] })
    }

    /// The first `n` images (or all of them if there are fewer).
    public func prefix(_ n: Int) -> LabelledImages {
        let n = min(n, count)
        return LabelledImages(pixels: Array(pixels.prefix(n * imageSize)), labels: Array(labels.prefix(n)),
                              height: height, width: width, channels: channels)
    }
}

/// A uniformly random permutation of `0..<count` (Fisher-Yates, written out so that a seed gives the same order
/// on every Swift version).
public func seededPermutation(count: Int, using generator: inout some RandomNumberGenerator) -> [Int] {
    var order = Array(0..<count)
    var i = count - 1
    while i > 0 {
        let j = Int(generator.next() % UInt64(i + 1))
        order.swapAt(i, j)
        i -= 1
    }
    return order
}
