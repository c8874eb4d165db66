extension RGBImage {
    /// Each pixel's three samples replaced by their rounded mean: a colour image made grey (so a black-and-white
    /// photo stays black and white after a colour perturbation).
    public func channelsAveraged() -> RGBImage {
        var out = self
        for i in stride(from: 0, to: out.pixels.count, by: 3) {
            let m = UInt8((Int(out.pixels[i]) + Int(out.pixels[i + 1]) + Int(out.pixels[i + 2]) + 1) / 3)
            out.pixels[i] = m
            out.pixels[i + 1] = m
            out.pixels[i + 2] = m
        }
        return out
    }

    /// `|a − b|` per sample, times `factor` (clamped to 255): a perturbation of a few levels made visible.
    public static func amplifiedDifference(_ a: RGBImage, _ b: RGBImage, factor: Int = 10) -> RGBImage {
        precondition(a.width == b.width && a.height == b.height, "difference of differently sized images")
        var p = [UInt8](repeating: 0, count: a.pixels.count)
        for i in p.indices {
            p[i] = UInt8(min(255, abs(Int(a.pixels[i]) - Int(b.pixels[i])) * factor))
        }
        return RGBImage(width: a.width, height: a.height, pixels: p)
    }

    /// The image shrunk (area average) so its longer side is at most `side`; itself when already that small.
    public func thumbnail(side: Int) -> RGBImage {
        let longer = max(width, height)
        guard longer > side else { return self }
        let w = max(1, width * side / longer), h = max(1, height * side / longer)
        return RGBImage(floats: Resize.auto(floatRGB, width: width, height: height, channels: 3, toWidth: w, toHeight: h),
                        width: w, height: h, channels: 3)
    }
}
