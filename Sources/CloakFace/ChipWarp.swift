import Foundation

/// The face-chip extraction of ``FaceChipExtractor`` as a linear, differentiable map from photo pixels to
/// chip pixels, with its adjoint for pushing chip gradients back onto the photo.
///
/// ```
/// chip = Sample(chipToLevel) ∘ Halve^pyramidLevels ∘ Crop(region) (photo)
/// ```
/// - `Crop` takes the plan's region of the photo.
/// - `Halve` is dlib's `pyramid_down<2>`: 5x5 binomial filter `[1 4 6 4 1] ⊗ [1 4 6 4 1] / 256`, output
///   pixel `(c, r)` reading input rows `2r...2r+4` and columns `2c...2c+4`, size `((h - 3) / 2, (w - 3) / 2)`.
/// - `Sample` is bilinear interpolation at `chipToLevel(c, r)`, zero where the 2x2 neighbourhood leaves
///   the image.
///
/// It equals dlib's chip except that dlib truncates to integers after each step (the float chip is up to
/// about 2 grey levels higher). ``backward(_:photoWidth:photoHeight:)`` is the exact transpose of
/// ``forward(_:)``, so `<forward(x), y> == <x, backward(y)>`.
public struct ChipWarp: Sendable {
    public let plan: FaceChipPlan
    /// Chip pixel to coordinates on the last pyramid level; defaults to the plan's, and may be replaced by a
    /// jittered map (small shifts, scales, rotations) for expectation-over-transformation.
    public var chipToLevel: AffineTransform2D

    public init(plan: FaceChipPlan) {
        self.plan = plan
        self.chipToLevel = plan.chipToLevel
    }

    /// A copy whose chip is moved in chip space before sampling: each chip pixel `p` samples where the
    /// plan's chip pixel `J(p)` would, with `J(p) = scale * R(rotation) * (p - centre) + centre + shift`
    /// about the chip centre `((size - 1) / 2, (size - 1) / 2)`; shift in chip pixels, rotation in radians.
    /// Use it to optimise in expectation over the small misalignments another tracker's detector makes.
    public func jittered(shiftX: Double, shiftY: Double, scale: Double, rotation: Double) -> ChipWarp {
        let centre = Double(plan.details.size - 1) / 2
        let ca = scale * cos(rotation), sa = scale * sin(rotation)
        let jitter = AffineTransform2D(a: ca, b: -sa, c: sa, d: ca,
                                       tx: centre - ca * centre + sa * centre + shiftX,
                                       ty: centre - sa * centre - ca * centre + shiftY)
        var copy = self
        copy.chipToLevel = plan.chipToLevel.composed(with: jitter)
        return copy
    }

    /// The chip (size x size, float) from the full photo.
    public func forward(_ photo: FloatRGBImage) -> FloatRGBImage {
        let size = plan.details.size
        guard !plan.region.isEmpty else { return FloatRGBImage(width: size, height: size) }
        var level = Self.crop(photo, plan.region)
        for _ in 0..<plan.pyramidLevels { level = Self.halve(level) }
        return Self.sample(level, transform: chipToLevel, width: size, height: size)
    }

    /// The photo gradient (photo size, non-zero only in the plan's region) of a chip gradient.
    public func backward(_ chipGradient: FloatRGBImage, photoWidth: Int, photoHeight: Int) -> FloatRGBImage {
        precondition(chipGradient.width == plan.details.size && chipGradient.height == plan.details.size,
                     "chip gradient must be \(plan.details.size)x\(plan.details.size)")
        var photo = FloatRGBImage(width: photoWidth, height: photoHeight)
        guard !plan.region.isEmpty else { return photo }
        var sizes = [(plan.region.width, plan.region.height)]
        for _ in 0..<plan.pyramidLevels {
            let (w, h) = sizes.last!
            sizes.append(((w - 3) / 2, (h - 3) / 2))
        }
        let (lw, lh) = sizes.last!
        var grad = Self.sampleAdjoint(chipGradient, transform: chipToLevel, sourceWidth: lw, sourceHeight: lh)
        for (w, h) in sizes.dropLast().reversed() { grad = Self.halveAdjoint(grad, inputWidth: w, inputHeight: h) }
        let box = plan.region
        for y in 0..<box.height {
            for x in 0..<(box.width * 3) {
                photo.values[((box.top + y) * photoWidth + box.left) * 3 + x] += grad.values[y * box.width * 3 + x]
            }
        }
        return photo
    }

    // MARK: - Steps and their adjoints

    static func crop(_ image: FloatRGBImage, _ box: FaceBox) -> FloatRGBImage {
        var values = [Float]()
        values.reserveCapacity(box.area * 3)
        for y in box.top...box.bottom {
            let start = (y * image.width + box.left) * 3
            values += image.values[start..<(start + box.width * 3)]
        }
        return FloatRGBImage(width: box.width, height: box.height, values: values)
    }

    private static let binomial: [Float] = [1, 4, 6, 4, 1]

    /// dlib `pyramid_down<2>` in float (no truncation); empty for inputs of 8 pixels or less on a side.
    public static func halve(_ image: FloatRGBImage) -> FloatRGBImage {
        guard image.width > 8, image.height > 8 else { return FloatRGBImage(width: 0, height: 0) }
        let ow = (image.width - 3) / 2, oh = (image.height - 3) / 2
        var out = [Float](repeating: 0, count: ow * oh * 3)
        image.values.withUnsafeBufferPointer { src in
            for r in 0..<oh {
                for c in 0..<ow {
                    for i in 0..<5 {
                        let row = ((2 * r + i) * image.width + 2 * c) * 3
                        for j in 0..<5 {
                            let w = binomial[i] * binomial[j] / 256
                            for ch in 0..<3 { out[(r * ow + c) * 3 + ch] += w * src[row + j * 3 + ch] }
                        }
                    }
                }
            }
        }
        return FloatRGBImage(width: ow, height: oh, values: out)
    }

    /// Transpose of ``halve(_:)`` for an input of `inputWidth x inputHeight`.
    public static func halveAdjoint(_ grad: FloatRGBImage, inputWidth: Int, inputHeight: Int) -> FloatRGBImage {
        var out = FloatRGBImage(width: inputWidth, height: inputHeight)
        guard grad.width > 0, grad.height > 0 else { return out }
        precondition(grad.width == (inputWidth - 3) / 2 && grad.height == (inputHeight - 3) / 2, "halveAdjoint size mismatch")
        out.values.withUnsafeMutableBufferPointer { dst in
            for r in 0..<grad.height {
                for c in 0..<grad.width {
                    for i in 0..<5 {
                        let row = ((2 * r + i) * inputWidth + 2 * c) * 3
                        for j in 0..<5 {
                            let w = binomial[i] * binomial[j] / 256
                            for ch in 0..<3 { dst[row + j * 3 + ch] += w * grad.values[(r * grad.width + c) * 3 + ch] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear sampling: output pixel `(c, r)` = source at `transform(c, r)`, zero when the 2x2
    /// neighbourhood is not inside the source (dlib `interpolate_bilinear` + black background).
    public static func sample(_ source: FloatRGBImage, transform: AffineTransform2D, width: Int, height: Int) -> FloatRGBImage {
        var out = [Float](repeating: 0, count: width * height * 3)
        source.values.withUnsafeBufferPointer { src in
            for r in 0..<height {
                for c in 0..<width {
                    guard let (i00, wts) = taps(transform, c, r, source.width, source.height) else { continue }
                    let i10 = i00 + source.width * 3
                    for ch in 0..<3 {
                        out[(r * width + c) * 3 + ch] = wts.0 * src[i00 + ch] + wts.1 * src[i00 + 3 + ch]
                            + wts.2 * src[i10 + ch] + wts.3 * src[i10 + 3 + ch]
                    }
                }
            }
        }
        return FloatRGBImage(width: width, height: height, values: out)
    }

    /// Transpose of ``sample(_:transform:width:height:)``: scatters each output gradient to its four source
    /// pixels with the bilinear weights.
    public static func sampleAdjoint(_ grad: FloatRGBImage, transform: AffineTransform2D, sourceWidth: Int,
                                     sourceHeight: Int) -> FloatRGBImage {
        var out = FloatRGBImage(width: sourceWidth, height: sourceHeight)
        out.values.withUnsafeMutableBufferPointer { dst in
            for r in 0..<grad.height {
                for c in 0..<grad.width {
                    guard let (i00, wts) = taps(transform, c, r, sourceWidth, sourceHeight) else { continue }
                    let i10 = i00 + sourceWidth * 3
                    for ch in 0..<3 {
                        let g = grad.values[(r * grad.width + c) * 3 + ch]
                        dst[i00 + ch] += wts.0 * g
                        dst[i00 + 3 + ch] += wts.1 * g
                        dst[i10 + ch] += wts.2 * g
                        dst[i10 + 3 + ch] += wts.3 * g
                    }
                }
            }
        }
        return out
    }

    /// Index of the top-left tap and the weights (top-left, top-right, bottom-left, bottom-right).
    @inline(__always)
    private static func taps(_ t: AffineTransform2D, _ c: Int, _ r: Int, _ w: Int, _ h: Int)
        -> (Int, (Float, Float, Float, Float))? {
        let p = t.apply(FacePoint(x: Double(c), y: Double(r)))
        let left = Int(p.x.rounded(.down)), top = Int(p.y.rounded(.down))
        guard left >= 0, top >= 0, left + 1 < w, top + 1 < h else { return nil }
        let lr = Float(p.x - Double(left)), tb = Float(p.y - Double(top))
        return ((top * w + left) * 3, ((1 - tb) * (1 - lr), (1 - tb) * lr, tb * (1 - lr), tb * lr))
    }
}
