import CJPEGShim

/// JPEG through libjpeg(-turbo), called only via the `CJPEGShim` C target (setjmp/longjmp error handling).
///
/// Decoding: baseline, progressive, greyscale (R=G=B), and CMYK/YCCK converted to RGB (Adobe APP14
/// present: samples taken as inverted, as Photoshop writes them, R = C*K/255; absent: plain CMYK,
/// R = (255-C)(255-K)/255). No colour management: an ICC profile is carried along, not applied.
/// A truncated stream (libjpeg's "Premature end of JPEG file" warning) is an error; other warnings
/// (such as extraneous bytes before a marker) are ignored.
enum JPEGCodec {
    static let colorSpaceNames = [1: "grey", 2: "RGB", 3: "YCbCr", 4: "CMYK", 5: "YCCK"]

    static func decode(_ bytes: [UInt8], path: String, maxPixels: Int)
        throws -> (image: RGBImage, metadata: ImageMetadata, description: String)
    {
        let segs = JPEGMarkers.segments(bytes)
        if let f = JPEGMarkers.frame(bytes, segs) {
            if f.width == 0 || f.height == 0 { throw ImageError.zeroDimensions(path: path, format: .jpeg) }
            if f.width * f.height > maxPixels {
                throw ImageError.tooManyPixels(path: path, width: f.width, height: f.height, limit: maxPixels)
            }
        }
        var out: UnsafeMutablePointer<UInt8>?
        var info = cjpeg_info()
        var err = [CChar](repeating: 0, count: 256)
        let rc = bytes.withUnsafeBufferPointer {
            cjpeg_decode($0.baseAddress, UInt($0.count), UInt64(maxPixels), &out, &info, &err, err.count)
        }
        defer { cjpeg_free(out) }
        let msg = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch rc {
        case CJPEG_OK: break
        case CJPEG_TRUNCATED: throw ImageError.truncated(path: path, format: .jpeg, detail: msg)
        case CJPEG_TOO_MANY_PIXELS:
            throw ImageError.tooManyPixels(path: path, width: Int(info.width), height: Int(info.height), limit: maxPixels)
        case CJPEG_EMPTY: throw ImageError.zeroDimensions(path: path, format: .jpeg)
        case CJPEG_NO_MEMORY: throw ImageError.unsupported(path: path, detail: msg)
        default: throw ImageError.corrupt(path: path, format: .jpeg, detail: msg.isEmpty ? "libjpeg error" : msg)
        }
        let w = Int(info.width), h = Int(info.height)
        let pixels = Array(UnsafeBufferPointer(start: out!, count: w * h * 3))
        var description = "JPEG " + (info.progressive != 0 ? "progressive " : "baseline ")
            + (colorSpaceNames[Int(info.jpeg_color_space)] ?? "colour space \(info.jpeg_color_space)")
        if info.jpeg_color_space == 4 || info.jpeg_color_space == 5 {
            description += info.saw_adobe_marker != 0 ? " (Adobe, inverted)" : " (plain)"
        }
        return (RGBImage(width: w, height: h, pixels: pixels), JPEGMarkers.metadata(bytes, segs), description)
    }

    /// Encodes greyscale when the image is grey, else RGB (alpha is dropped: JPEG has none). Chroma is
    /// not subsampled (4:4:4) at quality >= 90; below that libjpeg's default 4:2:0 is used.
    /// `segments` (complete marker segments) go right after SOI/JFIF.
    static func encode(_ image: RGBImage, quality: Int, progressive: Bool, segments: [[UInt8]],
                       path: String) throws -> [UInt8] {
        let q = min(100, max(1, quality))
        let grey = image.isGrayscale
        let samples = grey ? (0..<image.pixelCount).map { image.pixels[3 * $0] } : image.pixels
        return try encodeSamples(samples, width: image.width, height: image.height, components: grey ? 1 : 3,
                                 quality: q, fullChroma: q >= 90, progressive: progressive,
                                 segments: segments, path: path)
    }

    /// Raw encoder: `components` = 1 (grey), 3 (RGB) or 4 (CMYK, stored as given with an Adobe marker).
    static func encodeSamples(_ samples: [UInt8], width: Int, height: Int, components: Int, quality: Int,
                              fullChroma: Bool, progressive: Bool, segments: [[UInt8]] = [],
                              path: String) throws -> [UInt8] {
        precondition(samples.count == width * height * components, "sample count does not match size")
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = samples.withUnsafeBufferPointer {
            cjpeg_encode($0.baseAddress, Int32(width), Int32(height), Int32(components), Int32(quality),
                         fullChroma ? 1 : 0, progressive ? 1 : 0, &out, &size, &err, err.count)
        }
        defer { cjpeg_free(out) }
        guard rc == CJPEG_OK, let out else {
            let msg = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageError.encodeFailed(path: path, format: .jpeg, reason: msg)
        }
        let bytes = Array(UnsafeBufferPointer(start: out, count: Int(size)))
        return JPEGMarkers.inserting(segments, into: bytes)
    }
}
