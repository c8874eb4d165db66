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
    public static func ssim(_ a: RGBImage, _ b: RGBImage) -> Double {
        check(a, b)
        let w = a.width, h = a.height
        var size = min(11, w, h)
        if size % 2 == 0 { size -= 1 }
        let kernel = gaussian(size: size, sigma: 1.5)
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var total = 0.0
        for c in 0..<3 {
            var x = [Double](repeating: 0, count: w * h), y = x
            for i in 0..<(w * h) { x[i] = Double(a.pixels[3 * i + c]); y[i] = Double(b.pixels[3 * i + c]) }
            let xx = zip(x, x).map(*), yy = zip(y, y).map(*), xy = zip(x, y).map(*)
            let mx = filter(x, w, h, kernel), my = filter(y, w, h, kernel)
            let sxx = filter(xx, w, h, kernel), syy = filter(yy, w, h, kernel), sxy = filter(xy, w, h, kernel)
            var sum = 0.0
            for i in 0..<mx.count {
                let vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i]
                sum += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2))
                    / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
            total += sum / Double(mx.count)
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

    /// Separable "valid" filtering: output is `(w - k + 1) x (h - k + 1)`, row-major.
    static func filter(_ p: [Double], _ w: Int, _ h: Int, _ k: [Double]) -> [Double] {
        let n = k.count, ow = w - n + 1, oh = h - n + 1
        var rows = [Double](repeating: 0, count: ow * h)
        for y in 0..<h {
            for x in 0..<ow {
                var s = 0.0
                for j in 0..<n { s += k[j] * p[y * w + x + j] }
                rows[y * ow + x] = s
            }
        }
        var out = [Double](repeating: 0, count: ow * oh)
        for y in 0..<oh {
            for x in 0..<ow {
                var s = 0.0
                for j in 0..<n { s += k[j] * rows[(y + j) * ow + x] }
                out[y * ow + x] = s
            }
        }
        return out
    }
}
