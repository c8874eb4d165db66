import XCTest
@testable import CloakImage

final class JPEGTests: XCTestCase {
    func decode(_ bytes: [UInt8]) throws -> DecodedImage { try ImageCodec.decode(bytes: bytes, path: "test.jpg") }

    func testDefaultQualityRoundTripAbove40dB() throws {
        XCTAssertEqual(ImageCodec.defaultJPEGQuality, 95)
        let img = naturalImage()
        let jpg = try ImageCodec.encode(img, as: .jpeg)
        let d = try decode(jpg)
        XCTAssertEqual(d.format, .jpeg)
        XCTAssertEqual(d.sourceDescription, "JPEG baseline YCbCr")
        let psnr = ImageMetrics.psnr(img, d.image)
        XCTAssertGreaterThan(psnr, 40, "PSNR \(psnr)")
        // 4:4:4 at quality 95: every component has sampling factors 1x1 in SOF0.
        let sof = JPEGMarkers.segments(jpg).first { $0.marker == 0xC0 }!
        let comps = Int(jpg[sof.data.lowerBound + 5])
        XCTAssertEqual(comps, 3)
        for c in 0..<comps { XCTAssertEqual(jpg[sof.data.lowerBound + 6 + 3 * c + 1], 0x11) }
        // Default output carries no metadata segments at all.
        XCTAssertFalse(jpegMarkers(jpg).contains { $0 == 0xE1 || $0 == 0xE2 || $0 == 0xFE })
    }

    func testLowQualityIsWorseAndSubsampled() throws {
        let img = naturalImage()
        let jpg = try ImageCodec.encode(img, as: .jpeg, options: EncodeOptions(jpegQuality: 50))
        let sof = JPEGMarkers.segments(jpg).first { $0.marker == 0xC0 }!
        XCTAssertEqual(jpg[sof.data.lowerBound + 7], 0x22)
        XCTAssertLessThan(ImageMetrics.psnr(img, try decode(jpg).image),
                          ImageMetrics.psnr(img, try decode(try ImageCodec.encode(img, as: .jpeg)).image))
    }

    func testProgressive() throws {
        let img = naturalImage()
        let jpg = try ImageCodec.encode(img, as: .jpeg, options: EncodeOptions(jpegProgressive: true))
        XCTAssertTrue(jpegMarkers(jpg).contains(0xC2))
        let d = try decode(jpg)
        XCTAssertEqual(d.sourceDescription, "JPEG progressive YCbCr")
        XCTAssertGreaterThan(ImageMetrics.psnr(img, d.image), 40)
    }

    func testGreyscaleJPEG() throws {
        let grey = RGBImage(width: 32, height: 16, gray: (0..<512).map { UInt8(($0 % 32) * 8) })
        let jpg = try ImageCodec.encode(grey, as: .jpeg)
        let sof = JPEGMarkers.segments(jpg).first { $0.marker == 0xC0 }!
        XCTAssertEqual(jpg[sof.data.lowerBound + 5], 1, "one component")
        let d = try decode(jpg)
        XCTAssertEqual(d.sourceDescription, "JPEG baseline grey")
        XCTAssertTrue(d.image.isGrayscale)
        XCTAssertGreaterThan(ImageMetrics.psnr(grey, d.image), 40)
        // Progressive greyscale too.
        let p = try decode(try ImageCodec.encode(grey, as: .jpeg, options: EncodeOptions(jpegProgressive: true)))
        XCTAssertEqual(p.sourceDescription, "JPEG progressive grey")
    }

    /// Adobe (inverted) CMYK as Photoshop writes it: stored C'=255-C etc. With K'=255 (no black ink) the
    /// stored C', M', Y' are exactly the RGB values.
    func testAdobeCMYKIsConvertedToRGB() throws {
        let colours: [[UInt8]] = [[200, 30, 40], [10, 220, 90], [60, 70, 250], [128, 128, 128]]
        let w = 32, h = 8
        var cmyk = [UInt8]()
        for _ in 0..<h { for x in 0..<w { cmyk += colours[x / 8] + [255] } }
        let jpg = try JPEGCodec.encodeSamples(cmyk, width: w, height: h, components: 4, quality: 100,
                                              fullChroma: true, progressive: false, path: "cmyk.jpg")
        XCTAssertTrue(jpegMarkers(jpg).contains(0xEE), "Adobe APP14 marker")
        let d = try decode(jpg)
        XCTAssertEqual(d.sourceDescription, "JPEG baseline CMYK (Adobe, inverted)")
        for (i, c) in colours.enumerated() {
            let p = 3 * (4 * w + 8 * i + 4)
            for k in 0..<3 { XCTAssertEqual(Double(d.image.pixels[p + k]), Double(c[k]), accuracy: 3) }
        }
        // Half black: K' = 128 halves every channel.
        let half = try JPEGCodec.encodeSamples([UInt8](repeating: 0, count: 0) + (0..<64).flatMap { _ in [200, 100, 50, 128] as [UInt8] },
                                               width: 8, height: 8, components: 4, quality: 100, fullChroma: true,
                                               progressive: false, path: "cmyk.jpg")
        let hp = try decode(half).image.pixels
        XCTAssertEqual(Double(hp[0]), 100, accuracy: 3)
        XCTAssertEqual(Double(hp[1]), 50, accuracy: 3)
        XCTAssertEqual(Double(hp[2]), 25, accuracy: 3)
    }

    /// libjpeg warnings other than "premature end" are harmless and ignored.
    func testExtraneousBytesWarningIsIgnored() throws {
        let jpg = try ImageCodec.encode(naturalImage(), as: .jpeg)
        var noisy = jpg
        noisy.insert(contentsOf: [1, 2, 3], at: noisy.count - 2) // before EOI
        XCTAssertEqual(try decode(noisy).image, try decode(jpg).image)
    }
}
