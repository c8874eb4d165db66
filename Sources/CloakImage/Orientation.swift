extension RGBImage {
    /// The image as a viewer shows it, given the EXIF orientation (1...8) of these stored pixels.
    ///
    /// With stored size `w x h` and `D(x, y)` the output pixel, `S(x, y)` the stored one:
    /// 1 identity; 2 mirror left-right `S(w-1-x, y)`; 3 rotate 180 `S(w-1-x, h-1-y)`;
    /// 4 mirror top-bottom `S(x, h-1-y)`; 5 transpose `S(y, x)`; 6 rotate 90 clockwise `S(y, h-1-x)`;
    /// 7 transverse `S(w-1-y, h-1-x)`; 8 rotate 90 counter-clockwise `S(w-1-y, x)`.
    /// Orientations 5...8 swap width and height. Values outside 1...8 are treated as 1. Alpha follows.
    public func applyingOrientation(_ orientation: Int) -> RGBImage {
        guard (2...8).contains(orientation) else { return self }
        let w = width, h = height
        let swaps = orientation >= 5
        let ow = swaps ? h : w, oh = swaps ? w : h
        // Source index for output (x, y).
        let source: (Int, Int) -> Int
        switch orientation {
        case 2: source = { x, y in y * w + (w - 1 - x) }
        case 3: source = { x, y in (h - 1 - y) * w + (w - 1 - x) }
        case 4: source = { x, y in (h - 1 - y) * w + x }
        case 5: source = { x, y in x * w + y }
        case 6: source = { x, y in (h - 1 - x) * w + y }
        case 7: source = { x, y in (h - 1 - x) * w + (w - 1 - y) }
        default: source = { x, y in x * w + (w - 1 - y) } // 8
        }
        var px = [UInt8](repeating: 0, count: ow * oh * 3)
        var al: [UInt8]? = alpha == nil ? nil : [UInt8](repeating: 0, count: ow * oh)
        pixels.withUnsafeBufferPointer { sp in
            px.withUnsafeMutableBufferPointer { dp in
                for y in 0..<oh {
                    for x in 0..<ow {
                        let s = source(x, y) * 3, d = (y * ow + x) * 3
                        dp[d] = sp[s]; dp[d + 1] = sp[s + 1]; dp[d + 2] = sp[s + 2]
                    }
                }
            }
        }
        if let alpha {
            for y in 0..<oh {
                for x in 0..<ow { al![y * ow + x] = alpha[source(x, y)] }
            }
        }
        return RGBImage(width: ow, height: oh, pixels: px, alpha: al)
    }
}
