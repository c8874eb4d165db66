import CloakImage

/// Noise patterns as they are written and applied: resized to an image, added with the budget held exactly, and
/// reordered between Cloak's HWC layout and the NCHW layout of `noise.npy`.
public enum NoisePatterns {
    /// A `width x height x channels` (HWC) pattern resized bilinearly to `toWidth x toHeight`.
    public static func resized(_ pattern: [Float], width: Int, height: Int, channels: Int, toWidth: Int,
                               toHeight: Int) -> [Float] {
        Resize.bilinear(pattern, width: width, height: height, channels: channels, toWidth: toWidth, toHeight: toHeight)
    }

    /// `original + noise`, clamped to [0, 1], rounded to 8 bits and held within ±floor(ε) levels (ε in 0-255
    /// levels), so the output satisfies L-inf <= ε exactly. `noise` is HWC at the image's size, with `channels` (1 or 3)
    /// channels, in [0, 1] units.
    ///
    /// A grey image stays grey: where the noise has 3 channels (a data set with colour images in it), a grey
    /// image gets their mean, the same in every channel, so its output is a grey PNG like its input rather than
    /// a colour one with coloured speckles (the mean of values within ±ε is within ±ε).
    public static func apply(_ noise: [Float], channels: Int, to original: RGBImage, epsilon: Double) -> RGBImage {
        let limit = Int(epsilon.rounded(.down))
        let channelMean = channels == 3 && original.isGrayscale
        var out = original
        for p in 0..<original.pixelCount {
            let mean = channelMean ? (noise[3 * p] + noise[3 * p + 1] + noise[3 * p + 2]) / 3 : 0
            for ch in 0..<3 {
                let input = Int(original.pixels[3 * p + ch])
                let n = channelMean ? mean : noise[p * channels + (channels == 1 ? 0 : ch)]
                let v = min(1, max(0, Float(input) / 255 + n))
                var q = Int((v * 255).rounded())
                q = min(input + limit, max(input - limit, q))
                out.pixels[3 * p + ch] = UInt8(q)
            }
        }
        return out
    }

    /// `values` (`patterns` patterns of `channels x height x width`) from HWC to NCHW order, or back.
    public static func transposed(_ values: [Float], patterns: Int, channels c: Int, height h: Int, width w: Int,
                                  toNCHW: Bool) -> [Float] {
        let size = c * h * w
        var out = [Float](repeating: 0, count: values.count)
        for p in 0..<patterns {
            for y in 0..<h {
                for x in 0..<w {
                    for ch in 0..<c {
                        let hwc = p * size + (y * w + x) * c + ch, nchw = p * size + ch * h * w + y * w + x
                        if toNCHW { out[nchw] = values[hwc] } else { out[hwc] = values[nchw] }
                    }
                }
            }
        }
        return out
    }
}
