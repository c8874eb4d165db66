/// Resampling of interleaved float images.
///
/// Layout everywhere: row-major, channels interleaved (HWC): sample `(x, y, c)` of a `width x height x
/// channels` image is at `(y * width + x) * channels + c`. Pixel centres are at half-integer positions
/// (PyTorch's `align_corners=False`), so resizing an image to its own size returns it unchanged.
public enum Resize {
    /// Bilinear resampling (no prefilter). Use for upscaling; every output sample is a convex combination
    /// of input samples, so bounds such as `|v| <= eps` are preserved.
    public static func bilinear(_ src: [Float], width: Int, height: Int, channels: Int,
                                toWidth: Int, toHeight: Int) -> [Float] {
        precondition(src.count == width * height * channels, "bilinear: \(src.count) samples for \(width)x\(height)x\(channels)")
        precondition(toWidth >= 1 && toHeight >= 1, "bilinear: target size must be positive")
        if toWidth == width && toHeight == height { return src }
        var out = [Float](repeating: 0, count: toWidth * toHeight * channels)
        let sx = Float(width) / Float(toWidth), sy = Float(height) / Float(toHeight)
        for oy in 0..<toHeight {
            let fy = max(0, (Float(oy) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), height - 1), y1 = min(y0 + 1, height - 1)
            let wy = fy - Float(y0)
            for ox in 0..<toWidth {
                let fx = max(0, (Float(ox) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), width - 1), x1 = min(x0 + 1, width - 1)
                let wx = fx - Float(x0)
                let o = (oy * toWidth + ox) * channels
                let a = (y0 * width + x0) * channels, b = (y0 * width + x1) * channels
                let c = (y1 * width + x0) * channels, d = (y1 * width + x1) * channels
                for ch in 0..<channels {
                    let top = src[a + ch] + (src[b + ch] - src[a + ch]) * wx
                    let bottom = src[c + ch] + (src[d + ch] - src[c + ch]) * wx
                    out[o + ch] = top + (bottom - top) * wy
                }
            }
        }
        return out
    }

    /// Area-average resampling: each output pixel is the mean of the input area it covers (exact
    /// fractional overlaps). Use for downscaling: it does not alias. Preserves bounds like ``bilinear``.
    public static func area(_ src: [Float], width: Int, height: Int, channels: Int,
                            toWidth: Int, toHeight: Int) -> [Float] {
        precondition(src.count == width * height * channels, "area: \(src.count) samples for \(width)x\(height)x\(channels)")
        precondition(toWidth >= 1 && toHeight >= 1, "area: target size must be positive")
        if toWidth == width && toHeight == height { return src }
        let xs = overlaps(from: width, to: toWidth), ys = overlaps(from: height, to: toHeight)
        var out = [Float](repeating: 0, count: toWidth * toHeight * channels)
        var acc = [Float](repeating: 0, count: channels)
        for oy in 0..<toHeight {
            for ox in 0..<toWidth {
                for ch in 0..<channels { acc[ch] = 0 }
                var total: Float = 0
                for (iy, wy) in ys[oy] {
                    for (ix, wx) in xs[ox] {
                        let w = wy * wx
                        total += w
                        let i = (iy * width + ix) * channels
                        for ch in 0..<channels { acc[ch] += w * src[i + ch] }
                    }
                }
                let o = (oy * toWidth + ox) * channels
                for ch in 0..<channels { out[o + ch] = acc[ch] / total }
            }
        }
        return out
    }

    /// For each output cell, the input cells it covers and by how much.
    private static func overlaps(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var cells: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end && i < n {
                let w = min(end, Double(i + 1)) - max(start, Double(i))
                if w > 1e-9 { cells.append((i, Float(w))) }
                i += 1
            }
            return cells
        }
    }

    /// Area average when shrinking, bilinear when enlarging (per axis decision on the whole image).
    public static func auto(_ src: [Float], width: Int, height: Int, channels: Int,
                            toWidth: Int, toHeight: Int) -> [Float] {
        if toWidth <= width && toHeight <= height {
            return area(src, width: width, height: height, channels: channels, toWidth: toWidth, toHeight: toHeight)
        }
        return bilinear(src, width: width, height: height, channels: channels, toWidth: toWidth, toHeight: toHeight)
    }
}

extension RGBImage {
    /// The RGB samples as floats in [0, 1], HWC interleaved (alpha is dropped).
    public var floatRGB: [Float] {
        pixels.map { Float($0) / 255 }
    }

    /// Luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) as floats in [0, 1], one per pixel.
    public var floatLuma: [Float] {
        var out = [Float](repeating: 0, count: pixelCount)
        for i in 0..<pixelCount {
            out[i] = (0.299 * Float(pixels[3 * i]) + 0.587 * Float(pixels[3 * i + 1]) + 0.114 * Float(pixels[3 * i + 2])) / 255
        }
        return out
    }

    /// An image from floats in [0, 1] (HWC with 1 or 3 channels), rounded to the nearest 8-bit level and
    /// clamped.
    public init(floats: [Float], width: Int, height: Int, channels: Int) {
        precondition(channels == 1 || channels == 3, "RGBImage(floats:) needs 1 or 3 channels, got \(channels)")
        precondition(floats.count == width * height * channels, "RGBImage(floats:): wrong sample count")
        func q(_ v: Float) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        if channels == 3 {
            self.init(width: width, height: height, pixels: floats.map(q))
        } else {
            self.init(width: width, height: height, gray: floats.map(q))
        }
    }
}
