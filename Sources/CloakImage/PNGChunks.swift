import CZlib

/// PNG container structure: signature, IHDR, chunk walking with CRC checks, and chunk construction.
/// (Pixel decoding and encoding is libpng's job, in `PNGCodec`.)
enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    struct IHDR: Equatable {
        var width: Int
        var height: Int
        var bitDepth: Int
        var colorType: Int
        var interlaced: Bool
    }

    struct Chunk {
        var type: String
        /// Range of the chunk data in the file bytes.
        var data: Range<Int>
    }

    /// What a walk over the chunks found.
    struct Walk {
        var chunks: [Chunk] = []
        /// The bytes ended before IEND.
        var truncated = false
        /// Type of the first critical chunk (upper-case first letter) whose CRC did not match.
        var badCRC: String?
        /// Types of ancillary chunks whose CRC did not match (their data is not used).
        var badAncillary: Set<String> = []
    }

    static func be32(_ b: [UInt8], _ o: Int) -> Int {
        Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }

    /// Reads IHDR (the first 33 bytes) and checks the dimensions against `maxPixels`.
    static func header(_ b: [UInt8], path: String, maxPixels: Int) throws -> IHDR {
        guard b.count >= 33 else {
            throw ImageError.truncated(path: path, format: .png, detail: "file ends inside the IHDR header")
        }
        guard be32(b, 8) == 13, String(decoding: b[12..<16], as: UTF8.self) == "IHDR" else {
            throw ImageError.corrupt(path: path, format: .png, detail: "first chunk is not IHDR")
        }
        let h = IHDR(width: be32(b, 16), height: be32(b, 20), bitDepth: Int(b[24]), colorType: Int(b[25]),
                     interlaced: b[28] == 1)
        if h.width == 0 || h.height == 0 { throw ImageError.zeroDimensions(path: path, format: .png) }
        if h.width > Int(Int32.max) || h.height > Int(Int32.max) {
            throw ImageError.corrupt(path: path, format: .png, detail: "dimensions \(h.width)x\(h.height) out of range")
        }
        if h.width * h.height > maxPixels {
            throw ImageError.tooManyPixels(path: path, width: h.width, height: h.height, limit: maxPixels)
        }
        return h
    }

    /// Walks all chunks after the signature, checking every CRC.
    static func walk(_ b: [UInt8]) -> Walk {
        var w = Walk()
        var o = 8
        while true {
            guard o + 8 <= b.count else { w.truncated = true; return w }
            let len = be32(b, o)
            let type = String(decoding: b[(o + 4)..<(o + 8)], as: UTF8.self)
            guard len <= Int(Int32.max), o + 12 + len <= b.count else { w.truncated = true; return w }
            let stored = UInt32(be32(b, o + 8 + len))
            let computed = b.withUnsafeBufferPointer { p in
                UInt32(crc32(0, p.baseAddress! + o + 4, UInt32(4 + len)))
            }
            if stored != computed {
                if b[o + 4] & 0x20 == 0 { if w.badCRC == nil { w.badCRC = type } } else { w.badAncillary.insert(type) }
            }
            w.chunks.append(Chunk(type: type, data: (o + 8)..<(o + 8 + len)))
            o += 12 + len
            if type == "IEND" { return w }
        }
    }

    /// One complete chunk: length, type, data, CRC-32 (zlib) over type and data.
    static func make(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        return be(UInt32(data.count)) + body + be(crc)
    }

    /// An uncompressed `iTXt` chunk with a UTF-8 text.
    static func iTXt(keyword: String, text: [UInt8]) -> [UInt8] {
        make("iTXt", Array(keyword.utf8) + [0, 0, 0, 0, 0] + text)
    }

    /// Metadata carried in chunks: `eXIf` (TIFF), `iTXt` "XML:com.adobe.xmp" (uncompressed),
    /// `tEXt`/`iTXt` "Comment". Chunks with a bad CRC are skipped.
    static func metadata(_ b: [UInt8], _ walk: Walk) -> ImageMetadata {
        var m = ImageMetadata()
        for c in walk.chunks where !walk.badAncillary.contains(c.type) {
            let data = Array(b[c.data])
            switch c.type {
            case "eXIf":
                let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]
                m.exif = data.starts(with: exifHeader) ? Array(data.dropFirst(6)) : data
            case "tEXt":
                guard let z = data.firstIndex(of: 0), String(decoding: data[..<z], as: UTF8.self) == "Comment" else { continue }
                m.comment = String(data[(z + 1)...].map { Character(Unicode.Scalar($0)) })
            case "iTXt":
                guard let (keyword, text) = parseITXt(data) else { continue }
                if keyword == "XML:com.adobe.xmp" { m.xmp = text }
                if keyword == "Comment" { m.comment = String(decoding: text, as: UTF8.self) }
            default: continue
            }
        }
        m.readEXIFFields()
        return m
    }

    /// Keyword and text of an uncompressed iTXt chunk.
    static func parseITXt(_ d: [UInt8]) -> (String, [UInt8])? {
        guard let z = d.firstIndex(of: 0), z + 2 < d.count, d[z + 1] == 0 else { return nil }
        let keyword = String(decoding: d[..<z], as: UTF8.self)
        var o = z + 3
        guard let lang = d[o...].firstIndex(of: 0) else { return nil }
        o = lang + 1
        guard o <= d.count, let trans = d[o...].firstIndex(of: 0) else { return nil }
        return (keyword, Array(d[(trans + 1)...]))
    }
}
