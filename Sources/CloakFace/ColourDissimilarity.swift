import Foundation

/// RGB structural dissimilarity (DSSIM) of an image against a fixed reference, with its gradient: the
/// perceptual budget of the face cloak.
///
/// ```
/// DSSIM(x) = (1 - SSIM(x, reference)) / 2
/// SSIM     = mean over R, G, B and over window positions of
///            (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
/// ```
/// with the definition of `CloakImage.ImageMetrics.ssim`: 11x11 Gaussian window (σ 1.5, normalised),
/// `C1 = (0.01 * 255)²`, `C2 = (0.03 * 255)²`, positions where the window fits entirely ("valid"), each
/// channel on its own. Measured per colour channel, not on grey: a grey budget lets an optimiser hide the
/// perturbation in colour.
///
/// Images are ``FloatRGBImage``s in 0...255 units (HWC), at least 11x11, all the reference's size. The
/// gradient is exact for the float image (the window means are linear maps; their adjoint is applied).
public struct ColourDissimilarity: Sendable {
    public let width: Int
    public let height: Int
    /// Per channel (planar): the reference, and its window mean and second moment (centred at 128).
    private let reference: [[Float]]
    private let referenceMean: [[Float]]
    private let referenceSecondMoment: [[Float]]

    /// Side of the square SSIM window, pixels.
    public static let windowSize = 11
    static let kernel: [Float] = {
        let raw = (0..<windowSize).map { i -> Double in
            let d = Double(i - windowSize / 2)
            return exp(-d * d / (2 * 1.5 * 1.5))
        }
        let total = raw.reduce(0, +)
        return raw.map { Float($0 / total) }
    }()
    static let c1: Float = (0.01 * 255) * (0.01 * 255)
    static let c2: Float = (0.03 * 255) * (0.03 * 255)
    /// Values are centred before taking second moments so float32 keeps the small variances.
    static let centre: Float = 128

    public init(reference: FloatRGBImage) {
        precondition(reference.width >= Self.windowSize && reference.height >= Self.windowSize,
                     "ColourDissimilarity needs at least 11x11 pixels, got \(reference.width)x\(reference.height)")
        width = reference.width
        height = reference.height
        let planes = Self.planes(of: reference)
        self.reference = planes
        referenceMean = planes.map { Self.filter($0, reference.width, reference.height) }
        referenceSecondMoment = planes.map { p in Self.filter(p.map { $0 * $0 }, reference.width, reference.height) }
    }

    /// DSSIM of `image` against the reference (0 when equal).
    public func dissimilarity(_ image: FloatRGBImage) -> Double {
        evaluate(image, gradient: false).dssim
    }

    /// DSSIM of `image` and its gradient with respect to `image` (HWC, the image's size).
    public func dissimilarityAndGradient(_ image: FloatRGBImage) -> (dssim: Double, gradient: FloatRGBImage) {
        let r = evaluate(image, gradient: true)
        return (r.dssim, r.gradient!)
    }

    private func evaluate(_ image: FloatRGBImage, gradient wantsGradient: Bool) -> (dssim: Double, gradient: FloatRGBImage?) {
        precondition(image.width == width && image.height == height,
                     "ColourDissimilarity: image \(image.width)x\(image.height) differs from the reference \(width)x\(height)")
        let ow = width - Self.windowSize + 1, oh = height - Self.windowSize + 1
        let positions = ow * oh
        // dSSIM_mean/d(map) weight of one position; DSSIM = (1 - SSIM) / 2.
        let weight = -0.5 / Float(3 * positions)
        let planes = Self.planes(of: image)
        var total = 0.0
        var gradientPlanes: [[Float]] = []
        for c in 0..<3 {
            let x = planes[c], y = reference[c]
            let mx = Self.filter(x, width, height)
            let exx = Self.filter(x.map { $0 * $0 }, width, height)
            let exy = Self.filter(zip(x, y).map { $0 * $1 }, width, height)
            let my = referenceMean[c], eyy = referenceSecondMoment[c]
            var dMean = [Float](repeating: 0, count: wantsGradient ? positions : 0)
            var dXX = dMean, dXY = dMean
            let sum = Self.windowTerms(mx, exx, exy, my, eyy, weight: weight, wantsGradient: wantsGradient,
                                       dMean: &dMean, dXX: &dXX, dXY: &dXY)
            total += sum
            guard wantsGradient else { continue }
            let gMean = Self.filterAdjoint(dMean, width, height)
            let gXX = Self.filterAdjoint(dXX, width, height)
            let gXY = Self.filterAdjoint(dXY, width, height)
            gradientPlanes.append((0..<(width * height)).map { i in gMean[i] + 2 * x[i] * gXX[i] + y[i] * gXY[i] })
        }
        let dssim = (1 - total / Double(3 * positions)) / 2
        guard wantsGradient else { return (dssim, nil) }
        var values = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            for c in 0..<3 { values[3 * i + c] = gradientPlanes[c][i] }
        }
        return (dssim, FloatRGBImage(width: width, height: height, values: values))
    }

    /// Sum over positions of the SSIM map from the window statistics (centred means `mx`, `my`, second
    /// moments `exx`, `eyy`, `exy`), and with `wantsGradient` the derivatives of `weight * SSIM` with respect to
    /// `mx`, `exx` and `exy` at each position. Eight positions at a time.
    private static func windowTerms(_ mx: [Float], _ exx: [Float], _ exy: [Float], _ my: [Float], _ eyy: [Float],
                                    weight: Float, wantsGradient: Bool,
                                    dMean: inout [Float], dXX: inout [Float], dXY: inout [Float]) -> Double {
        let count = mx.count
        var sum = 0.0
        typealias V = SIMD8<Float>
        let c1 = V(repeating: Self.c1), c2 = V(repeating: Self.c2), centre = V(repeating: Self.centre)
        let two = V(repeating: 2), one = V(repeating: 1), w = V(repeating: weight)
        mx.withUnsafeBytes { mxb in exx.withUnsafeBytes { exxb in exy.withUnsafeBytes { exyb in
        my.withUnsafeBytes { myb in eyy.withUnsafeBytes { eyyb in
        dMean.withUnsafeMutableBytes { dmb in dXX.withUnsafeMutableBytes { dxxb in dXY.withUnsafeMutableBytes { dxyb in
            var p = 0
            while p < count {
                let lanes = min(8, count - p)
                func store(_ value: V, _ b: UnsafeMutableRawBufferPointer) {
                    if lanes == 8 { return b.storeBytes(of: value, toByteOffset: p * 4, as: V.self) }
                    for l in 0..<lanes { b.storeBytes(of: value[l], toByteOffset: (p + l) * 4, as: Float.self) }
                }
                func load(_ b: UnsafeRawBufferPointer) -> V {
                    if lanes == 8 { return b.loadUnaligned(fromByteOffset: p * 4, as: V.self) }
                    var v = V(repeating: 0)
                    for l in 0..<lanes { v[l] = b.load(fromByteOffset: (p + l) * 4, as: Float.self) }
                    return v
                }
                let mxv = load(UnsafeRawBufferPointer(mxb)), myv = load(UnsafeRawBufferPointer(myb))
                let ux = mxv + centre, uy = myv + centre
                let vx = load(UnsafeRawBufferPointer(exxb)) - mxv * mxv, vy = load(UnsafeRawBufferPointer(eyyb)) - myv * myv
                let cxy = load(UnsafeRawBufferPointer(exyb)) - mxv * myv
                let a1 = two * ux * uy + c1, a2 = two * cxy + c2
                let b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2
                let inv1 = one / b1, inv2 = one / b2, inv = inv1 * inv2
                let s = a1 * a2 * inv
                var laneSum: Float = 0
                for l in 0..<lanes { laneSum += s[l] }
                sum += Double(laneSum)
                if wantsGradient {
                    // S as a function of the window statistics of x: μx (mx), E[x²] (exx), E[xy] (exy).
                    let dSdMean = two * inv * (uy * a2 - myv * a1) - two * s * (ux * inv1 - mxv * inv2)
                    store(w * dSdMean, dmb)
                    store(w * (-s * inv2), dxxb)
                    store(w * two * a1 * inv, dxyb)
                }
                p += 8
            }
        } } } } } } } }
        return sum
    }

    /// Planar channels, centred at 128.
    private static func planes(of image: FloatRGBImage) -> [[Float]] {
        let n = image.width * image.height
        return (0..<3).map { c in (0..<n).map { image.values[3 * $0 + c] - centre } }
    }

    /// Separable "valid" Gaussian filtering: `(w - 10) x (h - 10)` row-major.
    static func filter(_ p: [Float], _ w: Int, _ h: Int) -> [Float] {
        let k = kernel, n = windowSize, ow = w - n + 1, oh = h - n + 1
        var rows = [Float](repeating: 0, count: ow * h)
        var out = [Float](repeating: 0, count: ow * oh)
        p.withUnsafeBufferPointer { source in
            rows.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!, dst = target.baseAddress!
                for y in 0..<h {
                    for j in 0..<n { multiplyAdd(dst + y * ow, src + y * w + j, k[j], ow) }
                }
            }
        }
        rows.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!, dst = target.baseAddress!
                for y in 0..<oh {
                    for j in 0..<n { multiplyAdd(dst + y * ow, src + (y + j) * ow, k[j], ow) }
                }
            }
        }
        return out
    }

    /// Transpose of ``filter(_:_:_:)``: a `(w - 10) x (h - 10)` map scattered back to `w x h`.
    static func filterAdjoint(_ g: [Float], _ w: Int, _ h: Int) -> [Float] {
        let k = kernel, n = windowSize, ow = w - n + 1, oh = h - n + 1
        var rows = [Float](repeating: 0, count: ow * h)
        var out = [Float](repeating: 0, count: w * h)
        g.withUnsafeBufferPointer { source in
            rows.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!, dst = target.baseAddress!
                for y in 0..<oh {
                    for j in 0..<n { multiplyAdd(dst + (y + j) * ow, src + y * ow, k[j], ow) }
                }
            }
        }
        rows.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                let src = source.baseAddress!, dst = target.baseAddress!
                for y in 0..<h {
                    for j in 0..<n { multiplyAdd(dst + y * w + j, src + y * ow, k[j], ow) }
                }
            }
        }
        return out
    }

    /// `dst[i] += k * src[i]` for `i < count`, eight lanes at a time.
    @inline(__always)
    private static func multiplyAdd(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ k: Float, _ count: Int) {
        var i = 0
        let kv = SIMD8<Float>(repeating: k)
        let rawDst = UnsafeMutableRawPointer(dst), rawSrc = UnsafeRawPointer(src)
        while i &+ 8 <= count {
            let offset = i &* 4
            let d = rawDst.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let s = rawSrc.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            rawDst.storeBytes(of: d + kv * s, toByteOffset: offset, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < count {
            dst[i] += k * src[i]
            i &+= 1
        }
    }
}
