/// JPEG container structure: walking the marker segments before the first scan, reading the frame
/// header and metadata segments, and inserting segments into an encoded file.
enum JPEGMarkers {
    struct Segment {
        var marker: UInt8
        /// Range of the segment payload (after the 2-byte length) in the file bytes.
        var data: Range<Int>
    }

    struct Frame {
        var width: Int
        var height: Int
        var components: Int
        var progressive: Bool
    }

    static let exifHeader: [UInt8] = Array("Exif".utf8) + [0, 0]
    static let xmpHeader: [UInt8] = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]
    static let iccHeader: [UInt8] = Array("ICC_PROFILE".utf8) + [0]

    /// Segments from SOI up to (not including) SOS or EOI; stops quietly at anything malformed
    /// (libjpeg reports the details later).
    static func segments(_ b: [UInt8]) -> [Segment] {
        var out: [Segment] = []
        var o = 2
        while o < b.count, b[o] == 0xFF {
            while o < b.count, b[o] == 0xFF { o += 1 }
            guard o < b.count else { break }
            let m = b[o]
            o += 1
            if m == 0x01 || (0xD0...0xD7).contains(m) { continue }
            if m == 0xD9 || m == 0xDA { break }
            guard o + 2 <= b.count else { break }
            let len = Int(b[o]) << 8 | Int(b[o + 1])
            guard len >= 2, o + len <= b.count else { break }
            out.append(Segment(marker: m, data: (o + 2)..<(o + len)))
            o += len
        }
        return out
    }

    /// The frame header (SOF0...SOF15 except DHT/JPG/DAC), or `nil` if not found.
    static func frame(_ b: [UInt8], _ segs: [Segment]) -> Frame? {
        for s in segs where (0xC0...0xCF).contains(s.marker) && ![0xC4, 0xC8, 0xCC].contains(s.marker) {
            guard s.data.count >= 6 else { return nil }
            let d = s.data.lowerBound
            return Frame(width: Int(b[d + 3]) << 8 | Int(b[d + 4]), height: Int(b[d + 1]) << 8 | Int(b[d + 2]),
                         components: Int(b[d + 5]), progressive: [0xC2, 0xC6, 0xCA, 0xCE].contains(s.marker))
        }
        return nil
    }

    /// EXIF (first APP1 `Exif\0\0`), XMP (APP1 with the XMP namespace), comment (first COM),
    /// ICC profile (APP2 `ICC_PROFILE` chunks in sequence order; dropped if the set is inconsistent).
    static func metadata(_ b: [UInt8], _ segs: [Segment]) -> ImageMetadata {
        var m = ImageMetadata()
        var icc: [(seq: Int, count: Int, data: ArraySlice<UInt8>)] = []
        for s in segs {
            let d = b[s.data]
            switch s.marker {
            case 0xE1 where m.exif == nil && d.starts(with: exifHeader.prefix(5)) && d.count > 6:
                m.exif = Array(d.dropFirst(6))
            case 0xE1 where m.xmp == nil && d.starts(with: xmpHeader):
                m.xmp = Array(d.dropFirst(xmpHeader.count))
            case 0xFE where m.comment == nil:
                m.comment = String(validating: d, as: UTF8.self)
                    ?? String(d.map { Character(Unicode.Scalar($0)) })
            case 0xE2 where d.starts(with: iccHeader) && d.count > 14:
                let base = d.startIndex + 12
                icc.append((Int(d[base]), Int(d[base + 1]), d[(base + 2)...]))
            default: continue
            }
        }
        if !icc.isEmpty {
            icc.sort { $0.seq < $1.seq }
            let count = icc[0].count
            if icc.count == count, icc.enumerated().allSatisfy({ $0.offset + 1 == $0.element.seq && $0.element.count == count }) {
                m.iccProfile = icc.flatMap { $0.data }
            }
        }
        m.readEXIFFields()
        return m
    }

    /// One marker segment; `nil` when the payload is too large for a segment.
    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8]? {
        let len = payload.count + 2
        guard len <= 0xFFFF else { return nil }
        return [0xFF, marker, UInt8(len >> 8), UInt8(len & 0xFF)] + payload
    }

    /// APP2 segments carrying an ICC profile, split into chunks of at most 65519 bytes.
    static func iccSegments(_ profile: [UInt8]) -> [[UInt8]] {
        let chunk = 65519
        let n = (profile.count + chunk - 1) / chunk
        guard n >= 1, n <= 255 else { return [] }
        return (0..<n).compactMap { i in
            let part = profile[(i * chunk)..<min(profile.count, (i + 1) * chunk)]
            return segment(0xE2, iccHeader + [UInt8(i + 1), UInt8(n)] + part)
        }
    }

    /// Inserts complete segments right after SOI and, when present, the JFIF APP0 segment.
    static func inserting(_ segs: [[UInt8]], into jpeg: [UInt8]) -> [UInt8] {
        guard !segs.isEmpty, jpeg.count >= 4 else { return jpeg }
        var at = 2
        if jpeg[2] == 0xFF, jpeg[3] == 0xE0, jpeg.count >= 6 {
            at = 4 + (Int(jpeg[4]) << 8 | Int(jpeg[5]))
        }
        var out = jpeg
        out.insert(contentsOf: segs.joined(), at: at)
        return out
    }
}
