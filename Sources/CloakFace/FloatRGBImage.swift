import CloakImage

/// A float RGB image for differentiable pixel operations, in 0...255 units.
///
/// Layout as ``CloakImage/RGBImage``: row-major, channels interleaved, the samples of pixel `(x, y)` at
/// `values[3 * (y * width + x) + 0...2]` (HWC). Convert to planar CHW for a network at the engine boundary.
public struct FloatRGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(width >= 0 && height >= 0 && values.count == width * height * 3,
                     "FloatRGBImage \(width)x\(height) needs \(width * height * 3) values, got \(values.count)")
        self.width = width
        self.height = height
        self.values = values
    }

    /// An all-zero image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, values: [Float](repeating: 0, count: width * height * 3))
    }

    /// The 8-bit image as floats.
    public init(_ image: RGBImage) {
        self.init(width: image.width, height: image.height, values: image.pixels.map { Float($0) })
    }

    /// Rounds and clamps to 8 bits.
    public func rounded() -> RGBImage {
        RGBImage(width: width, height: height, pixels: values.map { UInt8(clamping: Int(($0).rounded())) })
    }
}

extension AffineTransform2D {
    /// `self` after `inner`: the map `p -> self.apply(inner.apply(p))`.
    public func composed(with inner: AffineTransform2D) -> AffineTransform2D {
        AffineTransform2D(a: a * inner.a + b * inner.c, b: a * inner.b + b * inner.d,
                          c: c * inner.a + d * inner.c, d: c * inner.b + d * inner.d,
                          tx: a * inner.tx + b * inner.ty + tx, ty: c * inner.tx + d * inner.ty + ty)
    }
}
