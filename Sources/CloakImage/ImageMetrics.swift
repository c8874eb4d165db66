import Foundation

/// Distances between two images of the same size, over the RGB samples (alpha is ignored).
///
/// - Precondition (all functions): both images have the same width and height.
public enum ImageMetrics {
    /// Largest absolute sample difference, in 0...255 units.
    public static func linf(_ a: RGBImage, _ b: RGBImage) -> Int {
        check(a, b)
        var m = 0
        for i in 0..<a.pixels.count { m = max(m, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
        return m
    }

    /// How many pixels differ in any channel (the L0 size of a perturbation).
    public static func changedPixels(_ a: RGBImage, _ b: RGBImage) -> Int {
        check(a, b)
        var n = 0
        for p in 0..<a.pixelCount where a.pixels[3 * p] != b.pixels[3 * p] || a.pixels[3 * p + 1] != b.pixels[3 * p + 1]
            || a.pixels[3 * p + 2] != b.pixels[3 * p + 2] {
            n += 1
        }
        return n
    }

    /// Euclidean norm of the difference with samples in [0, 1] units, over all `3 * width * height`
    /// samples: `sqrt(sum(((a - b) / 255)^2))`.
    public static func l2(_ a: RGBImage, _ b: RGBImage) -> Double {
        sqrt(Double(sumSquares(a, b))) / 255
    }

    /// Peak signal-to-noise ratio in dB for 8-bit samples, `10 log10(255^2 / MSE)` with the mean over all
    /// RGB samples. `Double.infinity` when the images are identical.
    public static func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        let s = sumSquares(a, b)
        if s == 0 { return .infinity }
        let mse = Double(s) / Double(a.pixels.count)
        return 10 * log10(255 * 255 / mse)
    }

    /// Mean structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004): 11x11 Gaussian window with
    /// sigma 1.5 (normalised), K1 = 0.01, K2 = 0.03, L = 255, computed on each of R, G, B separately over
    /// the positions where the window fits entirely inside the image ("valid", as in the reference
    /// MATLAB code), then averaged over positions and the three channels. 1 for identical images.
    /// Images smaller than 11 pixels in a dimension use the largest odd window that fits (same sigma).
    ///
    /// Streams over the rows: memory is a few rows of `width`, whatever the image's height, so a 12-megapixel
    /// photo needs no gigabytes of intermediate planes.
    public static func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        check(a, b)
        let w = a.width, h = a.height
        var size = min(11, w, h)
        if size % 2 == 0 { size -= 1 }
        let kernel = gaussian(size: size, sigma: 1.5)
        let n = kernel.count, ow = w - n + 1, oh = h - n + 1
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        // The last n rows filtered horizontally, for the five local sums: x, y, x^2, y^2, xy.
        var ring = [Double](repeating: 0, count: 5 * n * ow)
        var rowX = [Double](repeating: 0, count: w), rowY = rowX, rowXX = rowX, rowYY = rowX, rowXY = rowX
        var acc = [Double](repeating: 0, count: 5 * ow)   // one output row of the five sums
        var total = 0.0
        for c in 0..<3 {
            var sum = 0.0
            for y in 0..<h {
                for x in 0..<w {
                    rowX[x] = Double(a.pixels[3 * (y * w + x) + c])
                    rowY[x] = Double(b.pixels[3 * (y * w + x) + c])
                    rowXX[x] = rowX[x] * rowX[x]
                    rowYY[x] = rowY[x] * rowY[x]
                    rowXY[x] = rowX[x] * rowY[x]
                }
                ring.withUnsafeMutableBufferPointer { r in
                    let base = r.baseAddress!
                    for (q, source) in [rowX, rowY, rowXX, rowYY, rowXY].enumerated() {
                        let dst = base + (q * n + y % n) * ow
                        source.withUnsafeBufferPointer { src in
                            for x in 0..<ow { dst[x] = 0 }
                            for j in 0..<n {
                                let k = kernel[j], shifted = src.baseAddress! + j
                                for x in 0..<ow { dst[x] += k * shifted[x] }
                            }
                        }
                    }
                    guard y >= n - 1 else { return }
                    // Output row y - n + 1: the vertical pass over the ring, oldest row first.
                    acc.withUnsafeMutableBufferPointer { a in
                        let o = a.baseAddress!
                        for i in 0..<(5 * ow) { o[i] = 0 }
                        for j in 0..<n {
                            let row = (y - n + 1 + j) % n, k = kernel[j]
                            for q in 0..<5 {
                                let src = base + (q * n + row) * ow, dst = o + q * ow
                                for x in 0..<ow { dst[x] += k * src[x] }
                            }
                        }
                        for x in 0..<ow {
                            let m1 = o[x], m2 = o[ow + x], s11 = o[2 * ow + x], s22 = o[3 * ow + x], s12 = o[4 * ow + x]
                            let vx = s11 - m1 * m1, vy = s22 - m2 * m2, cov = s12 - m1 * m2
                            sum += ((2 * m1 * m2 + c1) * (2 * cov + c2)) / ((m1 * m1 + m2 * m2 + c1) * (vx + vy + c2))
                        }
                    }
                }
            }
            total += sum / Double(ow * oh)
        }
        return total / 3
    }

    static func check(_ a: RGBImage, _ b: RGBImage) {
        precondition(a.width == b.width && a.height == b.height,
                     "image sizes differ: \(a.width)x\(a.height) vs \(b.width)x\(b.height)")
    }

    static func sumSquares(_ a: RGBImage, _ b: RGBImage) -> Int {
        check(a, b)
        var s = 0
        for i in 0..<a.pixels.count {
            let d = Int(a.pixels[i]) - Int(b.pixels[i])
            s += d * d
        }
        return s
    }

    static func gaussian(size: Int, sigma: Double) -> [Double] {
        let r = size / 2
        let g = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }
}
