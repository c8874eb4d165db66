import CloakImage

/// The two image pyramids dlib's face pipeline uses, bit-exact with dlib on 8-bit RGB images.
public enum ImagePyramid {
    /// dlib `pyramid_down<6>` on an RGB image: scales by 5/6 to `floor(5 * height / 6)` x
    /// `floor(5 * width / 6)` with dlib's bilinear `resize_image` (float weights, values truncated).
    /// Returns `nil` when the result would be empty.
    ///
    /// Point mapping: a point `p` of the input lands at `(p - 0.3) * 5/6` in the output.
    public static func downFiveSixths(_ image: RGBImage) -> RGBImage? {
        let outH = (5 * image.height) / 6, outW = (5 * image.width) / 6
        guard outH >= 1, outW >= 1 else { return nil }
        return resizeBilinear(image, width: outW, height: outH)
    }

    /// dlib `pyramid_up(img)` (the inverse of `pyramid_down<2>`) on an RGB image: bilinear resize to
    /// `(2 * height + 1) x (2 * width + 2)`, the size of the image rectangle mapped up by
    /// `p -> (p + (1.25, 0.75)) * 2`. dlib's detectors use it to find faces smaller than their window.
    public static func upDouble(_ image: RGBImage) -> RGBImage {
        resizeBilinear(image, width: 2 * image.width + 2, height: 2 * image.height + 1)
    }

    /// dlib `pyramid_down<2>` on an RGB image: a 5x5 binomial filter (`[1 4 6 4 1]` outer product / 256,
    /// integer arithmetic, truncated) sampled every other pixel, giving `(height - 3) / 2` x
    /// `(width - 3) / 2`. Returns `nil` for inputs of 8 pixels or less on a side (dlib returns empty).
    ///
    /// Point mapping: a point `p` of the input lands at `p / 2 - (1.25, 0.75)` in the output.
    public static func downHalf(_ image: RGBImage) -> RGBImage? {
        let h = image.height, w = image.width
        guard h > 8, w > 8 else { return nil }
        let tempW = (w - 3) / 2, outH = (h - 3) / 2, outW = tempW
        var temp = [UInt32](repeating: 0, count: h * tempW * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for r in 0..<h {
                let row = r * w * 3
                for c in 0..<tempW {
                    let o = row + 2 * c * 3
                    for ch in 0..<3 {
                        let s = UInt32(src[o + ch]) + 4 * UInt32(src[o + 3 + ch]) + 6 * UInt32(src[o + 6 + ch])
                            + 4 * UInt32(src[o + 9 + ch]) + UInt32(src[o + 12 + ch])
                        temp[(r * tempW + c) * 3 + ch] = s
                    }
                }
            }
        }
        var out = [UInt8](repeating: 0, count: outH * outW * 3)
        var dr = 0
        var r = 2
        while r < h - 2 {
            for c in 0..<tempW {
                for ch in 0..<3 {
                    let i = (r * tempW + c) * 3 + ch, stride = tempW * 3
                    let s = temp[i - 2 * stride] + 4 * temp[i - stride] + 6 * temp[i] + 4 * temp[i + stride] + temp[i + 2 * stride]
                    out[(dr * outW + c) * 3 + ch] = UInt8(s / 256)
                }
            }
            dr += 1
            r += 2
        }
        precondition(dr == outH, "pyramid_down<2> produced \(dr) rows, expected \(outH)")
        return RGBImage(width: outW, height: outH, pixels: out)
    }

    /// dlib's `resize_image(in, out, interpolate_bilinear())` for RGB images: output pixel `(c, r)` samples
    /// the input at `(c * (inW-1)/(outW-1), r * (inH-1)/(outH-1))`. Like dlib, columns are processed four at a
    /// time with float coordinates accumulated in float (the last few columns in double) and values
    /// truncated to integers.
    public static func resizeBilinear(_ image: RGBImage, width outW: Int, height outH: Int) -> RGBImage {
        precondition(outW >= 1 && outH >= 1, "resize target must be non-empty, got \(outW)x\(outH)")
        let inW = image.width, inH = image.height
        let xScale = Double(inW - 1) / Double(max(outW - 1, 1))
        let yScale = Double(inH - 1) / Double(max(outH - 1, 1))
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var y = -yScale
                for r in 0..<outH {
                    y += yScale
                    let top = Int(y.rounded(.down))
                    let bottom = min(top + 1, inH - 1)
                    let tbFrac = y - Double(top)
                    let tb = Float(tbFrac), invTb = Float(1 - tbFrac)
                    let topRow = top * inW * 3, bottomRow = bottom * inW * 3, outRow = r * outW * 3
                    let x0 = -4 * xScale
                    var lanes = SIMD4<Float>(Float(x0), Float(x0 + xScale), Float(x0 + 2 * xScale), Float(x0 + 3 * xScale))
                    let step = SIMD4<Float>(repeating: Float(4 * xScale))
                    var c = 0
                    while true {
                        lanes += step
                        // simd4i(simd4f) truncates (cvttps); lanes are non-negative here.
                        let left = SIMD4<Int32>(Int32(lanes[0]), Int32(lanes[1]), Int32(lanes[2]), Int32(lanes[3]))
                        let lr = lanes - SIMD4<Float>(left)
                        let invLr = 1 - lr
                        if Int(left[3]) + 1 >= inW { break }
                        let tlf = invTb * invLr, trf = invTb * lr, blf = tb * invLr, brf = tb * lr
                        for k in 0..<4 {
                            let l = Int(left[k]) * 3
                            for ch in 0..<3 {
                                let v1 = tlf[k] * Float(src[topRow + l + ch]) + trf[k] * Float(src[topRow + l + 3 + ch])
                                let v = v1 + blf[k] * Float(src[bottomRow + l + ch]) + brf[k] * Float(src[bottomRow + l + 3 + ch])
                                dst[outRow + (c + k) * 3 + ch] = UInt8(clamping: Int32(v))
                            }
                        }
                        c += 4
                    }
                    var x = -xScale + Double(c) * xScale
                    while c < outW {
                        x += xScale
                        let left = Int(x.rounded(.down))
                        let right = min(left + 1, inW - 1)
                        let lrFrac = x - Double(left)
                        for ch in 0..<3 {
                            let tl = Double(src[topRow + left * 3 + ch]), tr = Double(src[topRow + right * 3 + ch])
                            let bl = Double(src[bottomRow + left * 3 + ch]), br = Double(src[bottomRow + right * 3 + ch])
                            let v = (1 - tbFrac) * ((1 - lrFrac) * tl + lrFrac * tr) + tbFrac * ((1 - lrFrac) * bl + lrFrac * br)
                            dst[outRow + c * 3 + ch] = UInt8(clamping: Int(v))
                        }
                        c += 1
                    }
                }
            }
        }
        return RGBImage(width: outW, height: outH, pixels: out)
    }
}
