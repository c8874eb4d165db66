import CloakSupport

/// Limits and choices for decoding.
public struct DecodeOptions: Sendable {
    /// Largest accepted `width * height`, checked from the header before any pixel memory is allocated
    /// (decompression-bomb guard). Default 100 megapixels.
    public var maxPixels: Int = 100_000_000
    /// Largest accepted file size in bytes, checked with `stat` before reading. Default 1 GiB.
    public var maxFileBytes: Int = 1 << 30
    /// Turn the pixels upright according to the EXIF orientation (default). When false the stored
    /// pixels are returned and `metadata.orientation` tells how to show them.
    public var applyOrientation = true

    public init(maxPixels: Int = 100_000_000, maxFileBytes: Int = 1 << 30, applyOrientation: Bool = true) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
        self.applyOrientation = applyOrientation
    }
}

/// Choices for encoding. See `ImageMetadata` for the full metadata policy.
public struct EncodeOptions: Sendable {
    /// JPEG quality 1...100 (clamped). Default `ImageCodec.defaultJPEGQuality` (95).
    public var jpegQuality: Int = ImageCodec.defaultJPEGQuality
    /// Write a progressive JPEG (default baseline).
    public var jpegProgressive = false
    /// Carry the non-location metadata of `metadata` into the output (sanitised EXIF, comment, XMP
    /// unless it mentions a location). Default false: no EXIF, GPS, XMP or comment at all.
    public var keepMetadata = false
    /// Metadata of the source image, usually `DecodedImage.metadata`. Its ICC profile is written to
    /// JPEG outputs regardless of `keepMetadata` (colour data, not personal data).
    public var metadata: ImageMetadata?

    public init(jpegQuality: Int = ImageCodec.defaultJPEGQuality, jpegProgressive: Bool = false,
                keepMetadata: Bool = false, metadata: ImageMetadata? = nil) {
        self.jpegQuality = jpegQuality
        self.jpegProgressive = jpegProgressive
        self.keepMetadata = keepMetadata
        self.metadata = metadata
    }
}

/// A decoded image with what was learnt about the file.
public struct DecodedImage: Sendable {
    /// The pixels, upright when `DecodeOptions.applyOrientation` was set (the default).
    public var image: RGBImage
    public var format: ImageFormat
    /// Metadata as found in the file (EXIF still says the original orientation).
    public var metadata: ImageMetadata
    /// What the file was, e.g. "PNG 16-bit grey+alpha, interlaced" or "JPEG progressive YCbCr".
    public var sourceDescription: String
}

/// Decoding and encoding PNG and JPEG files.
///
/// The format of an input is recognised from its first bytes, never from its name.
public enum ImageCodec {
    /// Default JPEG quality for outputs: 95, with 4:4:4 chroma.
    ///
    /// A cloak is a perturbation of a few /255 per sample; JPEG quantisation at lower qualities removes
    /// exactly such small high-frequency changes (and 4:2:0 subsampling halves chroma resolution), so the
    /// protection would not survive its own save. At 95 with no chroma subsampling the round-trip error
    /// on natural images is around 1/255 RMS (PSNR above 40 dB), small against the perturbation budget,
    /// at a file size still well below PNG's.
    public static let defaultJPEGQuality = 95

    /// The stored format and size, reading only as much of the file as needed (1 MiB first; all of a
    /// JPEG whose frame header comes later). Checks the pixel and file-size limits.
    public static func readHeader(path: String, options: DecodeOptions = .init()) throws -> ImageHeader {
        var bytes = try FileReader.readFile(path, maxBytes: options.maxFileBytes, prefix: 1 << 20)
        guard let format = ImageFormat(magic: bytes) else {
            throw ImageError.unknownFormat(path: path, prefix: Array(bytes.prefix(4)))
        }
        switch format {
        case .png:
            let h = try PNGChunks.header(bytes, path: path, maxPixels: options.maxPixels)
            return ImageHeader(format: .png, width: h.width, height: h.height)
        case .jpeg:
            var frame = JPEGMarkers.frame(bytes, JPEGMarkers.segments(bytes))
            if frame == nil, bytes.count == 1 << 20 {
                bytes = try FileReader.readFile(path, maxBytes: options.maxFileBytes)
                frame = JPEGMarkers.frame(bytes, JPEGMarkers.segments(bytes))
            }
            guard let f = frame else {
                throw ImageError.corrupt(path: path, format: .jpeg, detail: "no frame header before the image data")
            }
            if f.width == 0 || f.height == 0 { throw ImageError.zeroDimensions(path: path, format: .jpeg) }
            if f.width * f.height > options.maxPixels {
                throw ImageError.tooManyPixels(path: path, width: f.width, height: f.height, limit: options.maxPixels)
            }
            return ImageHeader(format: .jpeg, width: f.width, height: f.height)
        }
    }

    /// Reads a file's bytes with the same checks as ``decode(path:options:)`` (regular file, readable, not
    /// empty, within the size limit), for callers that also need the bytes (to hash them).
    public static func readBytes(path: String, options: DecodeOptions = .init()) throws -> [UInt8] {
        try FileReader.readFile(path, maxBytes: options.maxFileBytes)
    }

    /// Reads and decodes a file (see `FileReader` checks: regular file, not empty, within the size limit).
    public static func decode(path: String, options: DecodeOptions = .init()) throws -> DecodedImage {
        let bytes = try FileReader.readFile(path, maxBytes: options.maxFileBytes)
        return try decode(bytes: bytes, path: path, options: options)
    }

    /// Decodes bytes already in memory; `path` is only used in error messages.
    public static func decode(bytes: [UInt8], path: String, options: DecodeOptions = .init()) throws -> DecodedImage {
        if bytes.isEmpty { throw ImageError.emptyFile(path: path) }
        guard let format = ImageFormat(magic: bytes) else {
            throw ImageError.unknownFormat(path: path, prefix: Array(bytes.prefix(4)))
        }
        let r = format == .png
            ? try PNGCodec.decode(bytes, path: path, maxPixels: options.maxPixels)
            : try JPEGCodec.decode(bytes, path: path, maxPixels: options.maxPixels)
        var image = r.image
        if options.applyOrientation { image = image.applyingOrientation(r.metadata.orientation) }
        var description = r.description
        if r.metadata.orientation != 1 { description += ", EXIF orientation \(r.metadata.orientation)" }
        return DecodedImage(image: image, format: format, metadata: r.metadata, sourceDescription: description)
    }

    /// Encodes to PNG or JPEG bytes. Errors name `"<memory>"` as the path.
    ///
    /// PNG: 8-bit grey or RGB, with alpha when any alpha < 255, grey when every pixel's red, green and blue
    /// are equal, so 8-bit grey/grey+alpha/RGB/RGBA PNGs round-trip bit-exactly. JPEG: greyscale when the image is grey,
    /// else YCbCr, 4:4:4 at quality >= 90 (4:2:0 below), optimised Huffman tables; alpha is dropped
    /// (JPEG has none; samples are not composited). Metadata per `EncodeOptions` / `ImageMetadata`:
    /// EXIF goes to APP1 / `eXIf` (right after IHDR), XMP to APP1 / `iTXt` "XML:com.adobe.xmp",
    /// the comment to COM / `iTXt` "Comment", the ICC profile to APP2 (JPEG only).
    public static func encode(_ image: RGBImage, as format: ImageFormat, options: EncodeOptions = .init()) throws -> [UInt8] {
        try encode(image, as: format, options: options, path: "<memory>")
    }

    /// Encodes and writes atomically (temporary file in the same directory, then rename).
    public static func write(_ image: RGBImage, to path: String, as format: ImageFormat,
                             options: EncodeOptions = .init(), createParentDirectories: Bool = false) throws {
        let bytes = try encode(image, as: format, options: options, path: path)
        try writeFileAtomically(bytes, to: path, createParentDirectories: createParentDirectories)
    }

    static func encode(_ image: RGBImage, as format: ImageFormat, options: EncodeOptions, path: String) throws -> [UInt8] {
        let m = options.metadata
        let exif = options.keepMetadata ? m?.exif.flatMap(EXIF.sanitized) : nil
        let xmp = options.keepMetadata ? m?.xmp.flatMap { ImageMetadata.xmpMentionsLocation($0) ? nil : $0 } : nil
        let comment = options.keepMetadata ? m?.comment : nil
        switch format {
        case .png:
            var chunks: [[UInt8]] = []
            if let exif { chunks.append(PNGChunks.make("eXIf", exif)) }
            if let xmp { chunks.append(PNGChunks.iTXt(keyword: "XML:com.adobe.xmp", text: xmp)) }
            if let comment { chunks.append(PNGChunks.iTXt(keyword: "Comment", text: Array(comment.utf8))) }
            return try PNGCodec.encode(image, extraChunks: chunks, path: path)
        case .jpeg:
            var segs: [[UInt8]] = []
            if let exif, let s = JPEGMarkers.segment(0xE1, JPEGMarkers.exifHeader + exif) { segs.append(s) }
            if let xmp, let s = JPEGMarkers.segment(0xE1, JPEGMarkers.xmpHeader + xmp) { segs.append(s) }
            if let icc = m?.iccProfile { segs += JPEGMarkers.iccSegments(icc) }
            if let comment, let s = JPEGMarkers.segment(0xFE, Array(comment.utf8)) { segs.append(s) }
            return try JPEGCodec.encode(image, quality: options.jpegQuality, progressive: options.jpegProgressive,
                                        segments: segs, path: path)
        }
    }
}
