import CloakImage

extension ImagePyramid {
    /// Shrinks an RGB image to `width x height` by area averaging (each output pixel is the mean of the
    /// input area it covers, partial pixels weighted by coverage), rounding to 8 bits. Used to run face
    /// detection on large photos; never for the pixels that get cloaked.
    public static func areaAverage(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        precondition(width >= 1 && height >= 1 && width <= image.width && height <= image.height,
                     "area averaging shrinks only: \(image.width)x\(image.height) -> \(width)x\(height)")
        let horizontal = coverage(from: image.width, to: width)
        let vertical = coverage(from: image.height, to: height)
        // Columns first, into a float buffer of image.height x width.
        var temp = [Float](repeating: 0, count: image.height * width * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<image.height {
                for (x, taps) in horizontal.enumerated() {
                    var acc = SIMD4<Float>(repeating: 0)
                    for (i, w) in taps {
                        let p = (y * image.width + i) * 3
                        acc += w * SIMD4(Float(src[p]), Float(src[p + 1]), Float(src[p + 2]), 0)
                    }
                    let o = (y * width + x) * 3
                    temp[o] = acc[0]; temp[o + 1] = acc[1]; temp[o + 2] = acc[2]
                }
            }
        }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for (y, taps) in vertical.enumerated() {
            for x in 0..<(width * 3) {
                var acc: Float = 0
                for (i, w) in taps { acc += w * temp[i * width * 3 + x] }
                out[y * width * 3 + x] = UInt8(clamping: Int(acc.rounded()))
            }
        }
        return RGBImage(width: width, height: height, pixels: out)
    }

    /// For each output index, the input indices it covers and their weights (summing to 1).
    private static func coverage(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            let start = Double(o) * scale, end = Double(o + 1) * scale
            var taps: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end, i < n {
                let covered = min(end, Double(i + 1)) - max(start, Double(i))
                if covered > 0 { taps.append((i, Float(covered / scale))) }
                i += 1
            }
            return taps
        }
    }
}
