import XCTest
@testable import CloakImage

final class MetadataTests: XCTestCase {
    // Six 16x16 blocks in a 3x2 grid:  A B C / D E F  (48 x 32 pixels).
    static let colours: [Character: [UInt8]] = [
        "A": [230, 20, 20], "B": [20, 230, 20], "C": [20, 20, 230],
        "D": [230, 230, 20], "E": [20, 230, 230], "F": [230, 20, 230],
    ]

    func blocks(_ rows: [String]) -> RGBImage {
        let bw = rows[0].count, bh = rows.count
        var px = [UInt8]()
        for y in 0..<(bh * 16) {
            let row = Array(rows[y / 16])
            for x in 0..<(bw * 16) { px += Self.colours[row[x / 16]]! }
        }
        return RGBImage(width: bw * 16, height: bh * 16, pixels: px)
    }

    /// Checks the centre of each 16x16 block against the expected layout.
    func assertBlocks(_ img: RGBImage, _ rows: [String], _ what: String, line: UInt = #line) {
        XCTAssertEqual(img.width, rows[0].count * 16, what, line: line)
        XCTAssertEqual(img.height, rows.count * 16, what, line: line)
        guard img.width == rows[0].count * 16, img.height == rows.count * 16 else { return }
        for (by, row) in rows.enumerated() {
            for (bx, name) in row.enumerated() {
                let p = 3 * ((by * 16 + 8) * img.width + bx * 16 + 8)
                let got = Array(img.pixels[p..<(p + 3)])
                let want = Self.colours[name]!
                XCTAssertTrue(zip(got, want).allSatisfy { abs(Int($0) - Int($1)) < 12 },
                              "\(what): block (\(bx),\(by)) is \(got), expected \(name)", line: line)
            }
        }
    }

    func testAllEightOrientationsOnJPEG() throws {
        let stored = ["ABC", "DEF"]
        // What a viewer shows for each EXIF orientation of the stored grid.
        let expected: [Int: [String]] = [
            1: ["ABC", "DEF"],
            2: ["CBA", "FED"],          // mirrored left-right
            3: ["FED", "CBA"],          // rotated 180
            4: ["DEF", "ABC"],          // mirrored top-bottom
            5: ["AD", "BE", "CF"],      // transposed
            6: ["DA", "EB", "FC"],      // rotated 90 clockwise
            7: ["FC", "EB", "DA"],      // transversed
            8: ["CF", "BE", "AD"],      // rotated 90 counter-clockwise
        ]
        let base = try ImageCodec.encode(blocks(stored), as: .jpeg, options: EncodeOptions(jpegQuality: 100))
        for o in 1...8 {
            for bigEndian in [false, true] {
                let t = TIFFBuilder(bigEndian: bigEndian)
                let tiff = t.build(ifd0: [t.ascii(0x010F, "TestCam"), t.short(0x0112, UInt16(o))])
                let d = try ImageCodec.decode(bytes: insertingEXIF(tiff, into: base), path: "o\(o).jpg")
                XCTAssertEqual(d.metadata.orientation, o)
                assertBlocks(d.image, expected[o]!, "orientation \(o) \(bigEndian ? "MM" : "II")")
                let raw = try ImageCodec.decode(bytes: insertingEXIF(tiff, into: base), path: "o.jpg",
                                                options: DecodeOptions(applyOrientation: false))
                assertBlocks(raw.image, stored, "orientation \(o) not applied")
            }
        }
    }

    func testOrientationFromPNGeXIfAndAlphaFollows() throws {
        var img = blocks(["ABC", "DEF"])
        img.alpha = (0..<img.pixelCount).map { UInt8($0 % 48 < 16 ? 100 : 255) } // left column translucent
        let t = TIFFBuilder(bigEndian: true)
        var png = try ImageCodec.encode(img, as: .png)
        png.insert(contentsOf: RawPNG.chunk("eXIf", t.build(ifd0: [t.short(0x0112, 6)])), at: 33)
        let d = try ImageCodec.decode(bytes: png, path: "o6.png")
        XCTAssertEqual(d.metadata.orientation, 6)
        XCTAssertEqual(d.image, img.applyingOrientation(6))
        assertBlocks(d.image, ["DA", "EB", "FC"], "png orientation 6")
        // The stored left column (A, D) is now the top row.
        XCTAssertEqual(d.image.alpha![8 * d.image.width + 5], 100)
        XCTAssertEqual(d.image.alpha![40 * d.image.width + 5], 255)
    }

    /// A JPEG with Make/Model, Orientation 6, an Exif IFD with a MakerNote, a GPS IFD, XMP with a
    /// location, a comment and an ICC profile.
    func sourceJPEG(bigEndian: Bool) throws -> (bytes: [UInt8], gpsLatitude: [UInt8]) {
        let t = TIFFBuilder(bigEndian: bigEndian)
        let lat = t.rationals(0x0002, [(52, 1), (31, 1), (1234, 100)])
        let tiff = t.build(
            ifd0: [t.ascii(0x010F, "TestCam"), t.ascii(0x0110, "Model X100"), t.short(0x0112, 6)],
            exif: [t.ascii(0x9003, "2024:05:06 07:08:09"), TIFFBuilder.E(tag: 0x927C, type: 7, count: 8, value: Array("MAKERNTE".utf8))],
            gps: [t.ascii(0x0001, "N"), lat])
        var jpg = try ImageCodec.encode(blocks(["ABC", "DEF"]), as: .jpeg)
        jpg = insertingSegment(0xFE, Array("a comment".utf8), into: jpg)
        jpg = insertingSegment(0xE2, Array("ICC_PROFILE".utf8) + [0, 1, 1] + Array("fake icc profile data".utf8), into: jpg)
        jpg = insertingSegment(0xE1, JPEGMarkers.xmpHeader + Array("<x:xmpmeta><exif:GPSLatitude>52,31N</exif:GPSLatitude></x:xmpmeta>".utf8), into: jpg)
        jpg = insertingEXIF(tiff, into: jpg)
        return (jpg, lat.value)
    }

    func testMetadataIsRead() throws {
        let d = try ImageCodec.decode(bytes: try sourceJPEG(bigEndian: false).bytes, path: "in.jpg")
        XCTAssertTrue(d.metadata.hasGPS)
        XCTAssertEqual(d.metadata.orientation, 6)
        XCTAssertEqual(d.metadata.comment, "a comment")
        XCTAssertEqual(d.metadata.iccProfile, Array("fake icc profile data".utf8))
        XCTAssertNotNil(d.metadata.xmp)
        XCTAssertEqual(d.image.width, 32) // rotated
    }

    func testDefaultOutputsCarryNoMetadataButJPEGKeepsICC() throws {
        let d = try ImageCodec.decode(bytes: try sourceJPEG(bigEndian: true).bytes, path: "in.jpg")
        let jpg = try ImageCodec.encode(d.image, as: .jpeg, options: EncodeOptions(metadata: d.metadata))
        let markers = jpegMarkers(jpg)
        XCTAssertFalse(markers.contains(0xE1), "no APP1 (EXIF/XMP)")
        XCTAssertFalse(markers.contains(0xFE), "no comment")
        let back = try ImageCodec.decode(bytes: jpg, path: "out.jpg")
        XCTAssertEqual(back.metadata, ImageMetadata(iccProfile: Array("fake icc profile data".utf8)))

        let png = try ImageCodec.encode(d.image, as: .png, options: EncodeOptions(metadata: d.metadata))
        let chunks = PNGChunks.walk(png).chunks.map(\.type)
        XCTAssertFalse(chunks.contains("eXIf") || chunks.contains("iTXt") || chunks.contains("tEXt"), "\(chunks)")
        XCTAssertEqual(try ImageCodec.decode(bytes: png, path: "out.png").metadata, ImageMetadata())
    }

    func testKeepMetadataKeepsMakeDropsGPSAndMakerNote() throws {
        for bigEndian in [false, true] {
            let (src, lat) = try sourceJPEG(bigEndian: bigEndian)
            let d = try ImageCodec.decode(bytes: src, path: "in.jpg")
            let options = EncodeOptions(keepMetadata: true, metadata: d.metadata)
            for format in ImageFormat.allCases {
                let out = try ImageCodec.encode(d.image, as: format, options: options)
                let back = try ImageCodec.decode(bytes: out, path: "out")
                let m = back.metadata
                XCTAssertFalse(m.hasGPS, "\(format)")
                XCTAssertEqual(m.orientation, 1, "pixels are upright, so Orientation is 1")
                XCTAssertEqual(back.image.width, d.image.width, "not rotated twice")
                let tiff = try XCTUnwrap(EXIF.parse(try XCTUnwrap(m.exif)))
                XCTAssertEqual(tiff.bigEndian, bigEndian)
                XCTAssertEqual(tiff.ifd0.first { $0.tag == 0x010F }?.value, Array("TestCam".utf8) + [0])
                XCTAssertEqual(tiff.ifd0.first { $0.tag == 0x0110 }?.value, Array("Model X100".utf8) + [0])
                XCTAssertFalse(tiff.ifd0.contains { $0.tag == 0x8825 })
                XCTAssertEqual(tiff.exifIFD.first { $0.tag == 0x9003 }?.value, Array("2024:05:06 07:08:09".utf8) + [0])
                XCTAssertFalse(tiff.exifIFD.contains { $0.tag == 0x927C })
                XCTAssertNil(search(out, lat), "GPS latitude bytes must not appear anywhere")
                XCTAssertNil(search(out, Array("MAKERNTE".utf8)))
                XCTAssertNil(search(out, Array("GPSLatitude".utf8)), "XMP with a location is dropped")
                XCTAssertNil(m.xmp)
                XCTAssertEqual(m.comment, "a comment")
                XCTAssertEqual(m.iccProfile, format == .jpeg ? Array("fake icc profile data".utf8) : nil)
            }
        }
    }

    func testKeepMetadataKeepsHarmlessXMP() throws {
        let xmp = Array("<x:xmpmeta><dc:creator>Someone</dc:creator></x:xmpmeta>".utf8)
        let img = blocks(["AB"])
        for format in ImageFormat.allCases {
            let out = try ImageCodec.encode(img, as: format, options: EncodeOptions(keepMetadata: true, metadata: ImageMetadata(xmp: xmp)))
            XCTAssertEqual(try ImageCodec.decode(bytes: out, path: "x").metadata.xmp, xmp, "\(format)")
        }
        XCTAssertTrue(ImageMetadata.xmpMentionsLocation(Array("<photoshop:City>Paris</photoshop:City>".utf8)))
    }

    func search(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard needle.count <= hay.count else { return nil }
        return (0...(hay.count - needle.count)).first { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
