import XCTest
@testable import CloakImage

final class PNGTests: XCTestCase {
    func decode(_ bytes: [UInt8]) throws -> DecodedImage { try ImageCodec.decode(bytes: bytes, path: "test.png") }

    /// Colour type written in IHDR.
    func colorType(_ png: [UInt8]) -> UInt8 { png[25] }

    func testRoundTripRGBIsBitExact() throws {
        let img = naturalImage(width: 37, height: 23)
        let png = try ImageCodec.encode(img, as: .png)
        XCTAssertEqual(colorType(png), 2)
        XCTAssertEqual(try decode(png).image, img)
    }

    func testRoundTripRGBAIsBitExact() throws {
        var img = naturalImage(width: 20, height: 9)
        img.alpha = (0..<img.pixelCount).map { UInt8(($0 * 7) % 256) }
        let png = try ImageCodec.encode(img, as: .png)
        XCTAssertEqual(colorType(png), 6)
        XCTAssertEqual(try decode(png).image, img)
    }

    func testRoundTripGreyIsBitExactAndWrittenAsGrey() throws {
        let img = RGBImage(width: 16, height: 16, gray: (0..<256).map { UInt8($0) })
        let png = try ImageCodec.encode(img, as: .png)
        XCTAssertEqual(colorType(png), 0)
        XCTAssertEqual(try decode(png).image, img)
    }

    func testRoundTripGreyAlphaIsBitExactAndWrittenAsGreyAlpha() throws {
        var img = RGBImage(width: 16, height: 16, gray: (0..<256).map { UInt8($0) })
        img.alpha = (0..<img.pixelCount).map { UInt8(($0 * 5) % 256) }
        let png = try ImageCodec.encode(img, as: .png)
        XCTAssertEqual(colorType(png), 4)
        XCTAssertEqual(try decode(png).image, img)
        XCTAssertEqual(try decode(png).sourceDescription, "PNG 8-bit grey+alpha")
    }

    func testOpaqueAlphaIsWrittenAsRGB() throws {
        var img = naturalImage(width: 8, height: 8)
        img.alpha = [UInt8](repeating: 255, count: 64)
        XCTAssertEqual(colorType(try ImageCodec.encode(img, as: .png)), 2)
    }

    /// Grey at every bit depth, plain and interlaced (9x7 leaves some Adam7 passes partial).
    func testGreyBitDepths() throws {
        let w = 9, h = 7
        for (depth, scale) in [(1, 255), (2, 85), (4, 17), (8, 1)] {
            let maxV = (1 << depth) - 1
            let values = (0..<(w * h)).map { UInt16(($0 * 5 + $0 / 3) % (maxV + 1)) }
            for interlace in [false, true] {
                let png = RawPNG.make(width: w, height: h, bitDepth: depth, colorType: 0, samples: values, interlace: interlace)
                let d = try decode(png)
                XCTAssertEqual(d.image, RGBImage(width: w, height: h, gray: values.map { UInt8(Int($0) * scale) }),
                               "grey \(depth)-bit interlace=\(interlace)")
                XCTAssertNil(d.image.alpha)
                XCTAssertTrue(d.sourceDescription.contains("\(depth)-bit grey"), d.sourceDescription)
            }
        }
    }

    func testSixteenBitIsScaledNotGammaConverted() throws {
        let values: [UInt16] = [0x8080, 0x0000, 0xFFFF, 0x4040, 0x0101, 0xFEFF]
        let expected: [UInt8] = [128, 0, 255, 64, 1, 254]
        for interlace in [false, true] {
            let png = RawPNG.make(width: 3, height: 2, bitDepth: 16, colorType: 0, samples: values, interlace: interlace)
            let d = try decode(png)
            XCTAssertEqual(d.image, RGBImage(width: 3, height: 2, gray: expected))
            XCTAssertEqual(d.sourceDescription, "PNG 16-bit grey" + (interlace ? ", interlaced" : ""))
        }
    }

    func testSixteenBitColourAndAlphaAreNotPremultiplied() throws {
        // RGBA16: half-transparent pixel keeps its colour.
        let rgba: [UInt16] = [0x8080, 0x4040, 0xFFFF, 0x8080, 0x1010, 0x2020, 0x3030, 0xFFFF]
        let d = try decode(RawPNG.make(width: 2, height: 1, bitDepth: 16, colorType: 6, samples: rgba))
        XCTAssertEqual(d.image.pixels, [128, 64, 255, 16, 32, 48])
        XCTAssertEqual(d.image.alpha, [128, 255])
        // RGB16 and grey+alpha 16.
        let rgb = try decode(RawPNG.make(width: 1, height: 1, bitDepth: 16, colorType: 2, samples: [0x8080, 0xC0C0, 0x0303]))
        XCTAssertEqual(rgb.image.pixels, [128, 192, 3])
        let ga = try decode(RawPNG.make(width: 2, height: 1, bitDepth: 16, colorType: 4, samples: [0x8080, 0x4040, 0x2020, 0]))
        XCTAssertEqual(ga.image.pixels, [128, 128, 128, 32, 32, 32])
        XCTAssertEqual(ga.image.alpha, [64, 0])
        XCTAssertEqual(ga.sourceDescription, "PNG 16-bit grey+alpha")
    }

    func testEightBitGreyAlphaRGBAndRGBA() throws {
        let ga = try decode(RawPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 4, samples: [10, 20, 30, 255], interlace: true))
        XCTAssertEqual(ga.image.pixels, [10, 10, 10, 30, 30, 30])
        XCTAssertEqual(ga.image.alpha, [20, 255])
        let rgba = try decode(RawPNG.make(width: 1, height: 2, bitDepth: 8, colorType: 6, samples: [1, 2, 3, 4, 5, 6, 7, 8]))
        XCTAssertEqual(rgba.image.pixels, [1, 2, 3, 5, 6, 7])
        XCTAssertEqual(rgba.image.alpha, [4, 8])
        let rgb = try decode(RawPNG.make(width: 2, height: 2, bitDepth: 8, colorType: 2, samples: (0..<12).map { UInt16($0 * 20) }))
        XCTAssertEqual(rgb.image.pixels, (0..<12).map { UInt8($0 * 20) })
        XCTAssertNil(rgb.image.alpha)
    }

    func testPaletteAllDepthsWithAndWithoutTRNS() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (17, 34, 51)]
        let w = 5, h = 3
        for depth in [1, 2, 4, 8] {
            let entries = min(palette.count, 1 << depth)
            let idx = (0..<(w * h)).map { UInt16(($0 * 3) % entries) }
            let expected = idx.flatMap { [palette[Int($0)].0, palette[Int($0)].1, palette[Int($0)].2] }
            for interlace in [false, true] {
                let plain = try decode(RawPNG.make(width: w, height: h, bitDepth: depth, colorType: 3, samples: idx,
                                                   interlace: interlace, palette: Array(palette.prefix(entries))))
                XCTAssertEqual(plain.image.pixels, expected, "palette \(depth)-bit")
                XCTAssertFalse(plain.image.hasTransparency)
                let trns: [UInt8] = [0, 128]
                let t = try decode(RawPNG.make(width: w, height: h, bitDepth: depth, colorType: 3, samples: idx,
                                               interlace: interlace, palette: Array(palette.prefix(entries)), trns: trns))
                XCTAssertEqual(t.image.pixels, expected)
                XCTAssertEqual(t.image.alpha, idx.map { Int($0) < trns.count ? trns[Int($0)] : 255 })
                XCTAssertTrue(t.sourceDescription.contains("palette with tRNS"), t.sourceDescription)
            }
        }
    }

    func testGreyAndRGBWithTRNSColourKey() throws {
        let g = try decode(RawPNG.make(width: 3, height: 1, bitDepth: 8, colorType: 0, samples: [5, 7, 9], trns: [0, 7]))
        XCTAssertEqual(g.image.alpha, [255, 0, 255])
        XCTAssertEqual(g.image.pixels, [5, 5, 5, 7, 7, 7, 9, 9, 9])
        let rgb = try decode(RawPNG.make(width: 2, height: 1, bitDepth: 8, colorType: 2, samples: [1, 2, 3, 4, 5, 6],
                                         trns: [0, 4, 0, 5, 0, 6]))
        XCTAssertEqual(rgb.image.alpha, [255, 0])
        XCTAssertEqual(rgb.image.pixels, [1, 2, 3, 4, 5, 6])
    }
}
