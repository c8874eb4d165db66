/// Reading and re-serialising EXIF TIFF structures (the payload of JPEG APP1 `Exif\0\0` and of PNG `eXIf`).
///
/// Only what Cloak needs: the Orientation tag, the presence of a GPS IFD, and a sanitised copy that keeps
/// IFD0 and the Exif sub-IFD and drops everything with location or internal offsets.
public enum EXIF {
    /// One IFD entry, with its value bytes copied out (in the TIFF's own byte order).
    struct Entry: Equatable {
        var tag: UInt16
        var type: UInt16
        var count: UInt32
        var value: [UInt8]
    }

    /// A parsed TIFF: IFD0 entries and, when present, the Exif sub-IFD entries.
    struct TIFF {
        var bigEndian: Bool
        var ifd0: [Entry]
        var exifIFD: [Entry]

        var orientation: Int {
            guard let e = ifd0.first(where: { $0.tag == Tag.orientation }) else { return 1 }
            let v: Int
            switch e.type {
            case 3 where e.value.count >= 2: v = Int(EXIF.u16(e.value, 0, bigEndian))
            case 4 where e.value.count >= 4: v = Int(EXIF.u32(e.value, 0, bigEndian))
            default: return 1
            }
            return (1...8).contains(v) ? v : 1
        }

        var hasGPS: Bool { ifd0.contains { $0.tag == Tag.gpsIFD } }
    }

    enum Tag {
        static let orientation: UInt16 = 0x0112
        static let exifIFD: UInt16 = 0x8769
        static let gpsIFD: UInt16 = 0x8825
        static let interopIFD: UInt16 = 0xA005
        static let makerNote: UInt16 = 0x927C
        static let make: UInt16 = 0x010F
        static let model: UInt16 = 0x0110
    }

    /// Tags never copied: sub-IFD pointers (their offsets would dangle; the Exif pointer is rebuilt),
    /// GPS, MakerNote (vendor blob with internal offsets), strip/tile/thumbnail offsets, embedded XMP and
    /// IPTC (both can hold a location), embedded ICC.
    static let droppedTags: Set<UInt16> = [
        Tag.exifIFD, Tag.gpsIFD, Tag.interopIFD, Tag.makerNote,
        0x014A, // SubIFDs
        0x0111, 0x0117, 0x0144, 0x0145, // strip/tile offsets and byte counts
        0x0201, 0x0202, // JPEGInterchangeFormat(Length): thumbnail
        0x02BC, // XMP
        0x83BB, // IPTC-NAA
        0x8773, // ICC profile
    ]

    /// Bytes per value of each TIFF type (1...13), 0 for unknown types.
    static func typeSize(_ type: UInt16) -> Int {
        switch type {
        case 1, 2, 6, 7: return 1
        case 3, 8: return 2
        case 4, 9, 11, 13: return 4
        case 5, 10, 12: return 8
        default: return 0
        }
    }

    static func u16(_ b: [UInt8], _ o: Int, _ be: Bool) -> UInt16 {
        be ? UInt16(b[o]) << 8 | UInt16(b[o + 1]) : UInt16(b[o + 1]) << 8 | UInt16(b[o])
    }

    static func u32(_ b: [UInt8], _ o: Int, _ be: Bool) -> UInt32 {
        be ? UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
            : UInt32(b[o + 3]) << 24 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 1]) << 8 | UInt32(b[o])
    }

    /// Parses a TIFF structure; `nil` when the header is not TIFF. Malformed entries are skipped.
    static func parse(_ b: [UInt8]) -> TIFF? {
        guard b.count >= 8 else { return nil }
        let be: Bool
        if b[0] == 0x49, b[1] == 0x49 { be = false } else if b[0] == 0x4D, b[1] == 0x4D { be = true } else { return nil }
        guard u16(b, 2, be) == 42 else { return nil }
        let ifd0 = readIFD(b, at: Int(u32(b, 4, be)), be)
        var exif: [Entry] = []
        if let p = ifd0.first(where: { $0.tag == Tag.exifIFD }), p.value.count >= 4 {
            exif = readIFD(b, at: Int(u32(p.value, 0, be)), be)
        }
        return TIFF(bigEndian: be, ifd0: ifd0, exifIFD: exif)
    }

    static func readIFD(_ b: [UInt8], at offset: Int, _ be: Bool) -> [Entry] {
        guard offset >= 8, offset + 2 <= b.count else { return [] }
        let n = Int(u16(b, offset, be))
        var entries: [Entry] = []
        for i in 0..<n {
            let o = offset + 2 + 12 * i
            guard o + 12 <= b.count else { break }
            let tag = u16(b, o, be), type = u16(b, o + 2, be), count = u32(b, o + 4, be)
            let size = typeSize(type)
            guard size > 0 else { continue }
            let total = Int(count) * size
            guard total <= b.count else { continue }
            if total <= 4 {
                entries.append(Entry(tag: tag, type: type, count: count, value: Array(b[(o + 8)..<(o + 8 + total)])))
            } else {
                let at = Int(u32(b, o + 8, be))
                guard at + total <= b.count else { continue }
                entries.append(Entry(tag: tag, type: type, count: count, value: Array(b[at..<(at + total)])))
            }
        }
        return entries
    }

    /// The EXIF orientation (1...8) in a TIFF structure; 1 when absent or invalid.
    public static func orientation(in tiff: [UInt8]) -> Int { parse(tiff)?.orientation ?? 1 }

    /// A copy of `tiff` safe to publish: IFD0 and the Exif sub-IFD only; no GPS IFD (pointer 0x8825
    /// dropped), no MakerNote (0x927C), no thumbnail IFD1, no Interop IFD, no embedded XMP/IPTC/ICC; and
    /// Orientation set to 1 because the pixels were already turned upright. Keeps the source byte order.
    /// `nil` when the input is not TIFF or nothing is left.
    public static func sanitized(_ tiff: [UInt8]) -> [UInt8]? {
        guard let t = parse(tiff) else { return nil }
        let be = t.bigEndian
        var ifd0 = t.ifd0.filter { !droppedTags.contains($0.tag) }
        let exif = t.exifIFD.filter { !droppedTags.contains($0.tag) }
        if let i = ifd0.firstIndex(where: { $0.tag == Tag.orientation }) {
            ifd0[i] = Entry(tag: Tag.orientation, type: 3, count: 1, value: be ? [0, 1] : [1, 0])
        }
        if !exif.isEmpty {
            ifd0.append(Entry(tag: Tag.exifIFD, type: 4, count: 1, value: [0, 0, 0, 0])) // patched below
        }
        guard !ifd0.isEmpty else { return nil }
        return build(bigEndian: be, ifd0: ifd0, exif: exif)
    }

    /// Serialises IFD0 (+ Exif sub-IFD, pointed to by a 0x8769 entry in `ifd0`), entries sorted by tag,
    /// out-of-line values word-aligned after each IFD, no next IFD.
    static func build(bigEndian be: Bool, ifd0: [Entry], exif: [Entry]) -> [UInt8] {
        var out: [UInt8] = be ? [0x4D, 0x4D, 0, 42, 0, 0, 0, 8] : [0x49, 0x49, 42, 0, 8, 0, 0, 0]
        func put16(_ v: UInt16) { out += be ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func put32(_ v: UInt32) {
            let bytes = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            out += be ? bytes : bytes.reversed()
        }
        func set32(_ v: UInt32, at o: Int) {
            let bytes = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            for (i, x) in (be ? bytes : bytes.reversed()).enumerated() { out[o + i] = x }
        }
        /// Writes one IFD at the end of `out`; returns where each entry's value field is, by tag.
        func writeIFD(_ entries: [Entry]) -> [UInt16: Int] {
            let sorted = entries.sorted { $0.tag < $1.tag }
            let start = out.count
            var data = start + 2 + 12 * sorted.count + 4
            var valueFields: [UInt16: Int] = [:]
            put16(UInt16(sorted.count))
            var pending: [[UInt8]] = []
            for e in sorted {
                put16(e.tag); put16(e.type); put32(e.count)
                valueFields[e.tag] = out.count
                if e.value.count <= 4 {
                    out += e.value + [UInt8](repeating: 0, count: 4 - e.value.count)
                } else {
                    put32(UInt32(data))
                    let padded = e.value.count % 2 == 1 ? e.value + [0] : e.value
                    pending.append(padded)
                    data += padded.count
                }
            }
            put32(0) // no next IFD (drops IFD1, the thumbnail)
            for p in pending { out += p }
            return valueFields
        }
        let fields0 = writeIFD(ifd0)
        if !exif.isEmpty, let pointer = fields0[Tag.exifIFD] {
            set32(UInt32(out.count), at: pointer)
            _ = writeIFD(exif)
        }
        return out
    }
}
