import CPNG

/// PNG through libpng's simplified API (`png_image_*`), which handles libpng's setjmp error path itself.
///
/// Decoding reads every PNG kind (1/2/4/8/16-bit, grey, grey+alpha, RGB, RGBA, palette with tRNS, Adam7)
/// into 8-bit samples. 16-bit files are read with `PNG_IMAGE_FLAG_16BIT_sRGB`, so libpng treats their
/// samples as already sRGB-encoded and only scales them to 8 bits with rounding (0x8080 -> 128). Without
/// the flag libpng assumes 16-bit data without gAMA is *linear* and gamma-encodes it (0x8080 -> 186, checked).
/// 8-bit files pass through unchanged unless they carry a gAMA chunk far from sRGB, which libpng honours (gAMA 1.0: 128 -> 186, checked). Outputs carry an sRGB chunk.
enum PNGCodec {
    static func message(_ image: png_image) -> String {
        withUnsafeBytes(of: image.message) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func describe(_ h: PNGChunks.IHDR, hasTRNS: Bool) -> String {
        let kind: String
        switch h.colorType {
        case 0: kind = "grey"
        case 2: kind = "RGB"
        case 3: kind = "palette"
        case 4: kind = "grey+alpha"
        case 6: kind = "RGBA"
        default: kind = "colour type \(h.colorType)"
        }
        return "PNG \(h.bitDepth)-bit \(kind)" + (hasTRNS ? " with tRNS" : "") + (h.interlaced ? ", interlaced" : "")
    }

    static func decode(_ bytes: [UInt8], path: String, maxPixels: Int)
        throws -> (image: RGBImage, metadata: ImageMetadata, description: String)
    {
        let ihdr = try PNGChunks.header(bytes, path: path, maxPixels: maxPixels)
        let walk = PNGChunks.walk(bytes)
        if let bad = walk.badCRC {
            throw ImageError.corrupt(path: path, format: .png, detail: "CRC error in \(bad) chunk")
        }
        func failure(_ image: png_image) -> ImageError {
            let msg = message(image)
            return walk.truncated
                ? .truncated(path: path, format: .png, detail: msg.isEmpty ? "file ends before IEND" : msg)
                : .corrupt(path: path, format: .png, detail: msg.isEmpty ? "libpng error" : msg)
        }

        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&img, $0.baseAddress, $0.count) }
        guard begun != 0 else { let e = failure(img); png_image_free(&img); throw e }
        let w = Int(img.width), h = Int(img.height)
        let hasAlpha = img.format & PNG_FORMAT_FLAG_ALPHA != 0
        let color = img.format & PNG_FORMAT_FLAG_COLOR != 0
        let channels = (color ? 3 : 1) + (hasAlpha ? 1 : 0)
        img.format = color ? (hasAlpha ? SHIM_PNG_FORMAT_RGBA : SHIM_PNG_FORMAT_RGB)
            : (hasAlpha ? SHIM_PNG_FORMAT_GA : SHIM_PNG_FORMAT_GRAY)
        img.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var buf = [UInt8](repeating: 0, count: w * h * channels)
        let finished = buf.withUnsafeMutableBytes { png_image_finish_read(&img, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { let e = failure(img); png_image_free(&img); throw e }
        png_image_free(&img)

        var px = [UInt8](repeating: 0, count: w * h * 3)
        var alpha: [UInt8]? = hasAlpha ? [UInt8](repeating: 255, count: w * h) : nil
        for i in 0..<(w * h) {
            let s = i * channels
            if color {
                px[3 * i] = buf[s]; px[3 * i + 1] = buf[s + 1]; px[3 * i + 2] = buf[s + 2]
            } else {
                px[3 * i] = buf[s]; px[3 * i + 1] = buf[s]; px[3 * i + 2] = buf[s]
            }
            if hasAlpha { alpha![i] = buf[s + channels - 1] }
        }
        let hasTRNS = walk.chunks.contains { $0.type == "tRNS" }
        return (RGBImage(width: w, height: h, pixels: px, alpha: alpha),
                PNGChunks.metadata(bytes, walk), describe(ihdr, hasTRNS: hasTRNS))
    }

    /// Encodes 8-bit grey, grey+alpha (when any alpha < 255), RGB or RGBA: grey when every pixel's red, green
    /// and blue are equal, so a grey image is never stored at three times its size.
    /// `extraChunks` (complete chunks) go right after IHDR.
    static func encode(_ image: RGBImage, extraChunks: [[UInt8]], path: String) throws -> [UInt8] {
        let n = image.pixelCount
        var img = png_image()
        img.version = png_uint_32(PNG_IMAGE_VERSION)
        img.width = png_uint_32(image.width)
        img.height = png_uint_32(image.height)
        // Samples per pixel: grey or RGB, plus alpha when any pixel is not opaque.
        let grey = image.isGrayscale, alpha = image.hasTransparency ? image.alpha : nil
        let colours = grey ? 1 : 3, stride = colours + (alpha == nil ? 0 : 1)
        img.format = grey ? (alpha == nil ? SHIM_PNG_FORMAT_GRAY : SHIM_PNG_FORMAT_GA)
            : (alpha == nil ? SHIM_PNG_FORMAT_RGB : SHIM_PNG_FORMAT_RGBA)
        var data = stride == 3 ? image.pixels : [UInt8](repeating: 0, count: n * stride)
        if stride != 3 {
            for i in 0..<n {
                for c in 0..<colours { data[stride * i + c] = image.pixels[3 * i + c] }
                if let alpha { data[stride * i + colours] = alpha[i] }
            }
        }
        var size = 0
        guard png_image_write_to_memory(&img, nil, &size, 0, data, 0, nil) != 0, size > 0 else {
            let e = ImageError.encodeFailed(path: path, format: .png, reason: message(img))
            png_image_free(&img)
            throw e
        }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { png_image_write_to_memory(&img, $0.baseAddress, &size, 0, data, 0, nil) }
        guard ok != 0 else {
            let e = ImageError.encodeFailed(path: path, format: .png, reason: message(img))
            png_image_free(&img)
            throw e
        }
        png_image_free(&img)
        out.removeLast(out.count - size)
        if !extraChunks.isEmpty {
            out.insert(contentsOf: extraChunks.joined(), at: 33) // signature (8) + IHDR (25)
        }
        return out
    }
}
