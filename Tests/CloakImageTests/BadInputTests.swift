import CloakSupport
import CJPEGShim
import Foundation
import XCTest
@testable import CloakImage

final class BadInputTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws { dir = try temporaryDirectory(self) }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = dir + "/" + name
        try writeBytes(bytes, p)
        return p
    }

    func testZeroByteFile() throws {
        let p = try file("empty.png", [])
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .emptyFile(path: p) }
        assertImageError(try ImageCodec.readHeader(path: p), path: p) { $0 == .emptyFile(path: p) }
    }

    func testMissingFile() {
        let p = dir + "/nope.jpg"
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .notFound(path: p) }
    }

    func testGarbageWithJPEGName() throws {
        let p = try file("notes.jpg", Array("Hello, world".utf8))
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .unknownFormat(path: p, prefix: [0x48, 0x65, 0x6c, 0x6c]) }
        XCTAssertEqual(ImageError.unknownFormat(path: "notes.jpg", prefix: [0x48, 0x65, 0x6c, 0x6c]).errorDescription,
                       "notes.jpg: not a PNG or JPEG file (starts with 0x48 0x65 0x6c 0x6c)")
    }

    func testFormatComesFromContentNotName() throws {
        let p = try file("really-a-jpeg.png", try ImageCodec.encode(naturalImage(), as: .jpeg))
        XCTAssertEqual(try ImageCodec.decode(path: p).format, .jpeg)
        XCTAssertEqual(try ImageCodec.readHeader(path: p), ImageHeader(format: .jpeg, width: 96, height: 64))
    }

    func testTruncatedPNG() throws {
        let png = try ImageCodec.encode(naturalImage(), as: .png)
        let p = try file("cut.png", Array(png.prefix(png.count / 2)))
        assertImageError(try ImageCodec.decode(path: p), path: p) {
            if case .truncated(_, .png, _) = $0 { return true } else { return false }
        }
    }

    func testTruncatedJPEG() throws {
        for progressive in [false, true] {
            let jpg = try ImageCodec.encode(naturalImage(), as: .jpeg, options: EncodeOptions(jpegProgressive: progressive))
            let p = try file("photo.jpg", Array(jpg.prefix(jpg.count / 2)))
            assertImageError(try ImageCodec.decode(path: p), path: p) {
                $0 == .truncated(path: p, format: .jpeg, detail: "Premature end of JPEG file")
            }
            XCTAssertEqual(ImageError.truncated(path: "photo.jpg", format: .jpeg, detail: "Premature end of JPEG file").errorDescription,
                           "photo.jpg: truncated JPEG (Premature end of JPEG file)")
        }
    }

    func testCorruptJPEGData() throws {
        var jpg = try ImageCodec.encode(naturalImage(), as: .jpeg)
        let sos = (2..<jpg.count).first { jpg[$0 - 1] == 0xFF && jpg[$0] == 0xDA }!
        jpg[sos + 4] = 99 // first scan component selector -> no such component
        let p = try file("bad.jpg", jpg)
        assertImageError(try ImageCodec.decode(path: p), path: p) {
            $0 == .corrupt(path: p, format: .jpeg, detail: "Invalid component ID 99 in SOS")
        }
    }

    func testPNGWithCRCErrorInIDATOrIHDR() throws {
        let png = try ImageCodec.encode(naturalImage(), as: .png)
        let idat = PNGChunks.walk(png).chunks.first { $0.type == "IDAT" }!
        var bad = png
        bad[idat.data.lowerBound + idat.data.count / 2] ^= 0x55
        let p = try file("crc.png", bad)
        assertImageError(try ImageCodec.decode(path: p), path: p) {
            $0 == .corrupt(path: p, format: .png, detail: "CRC error in IDAT chunk")
        }
        var badHeader = png
        badHeader[29] ^= 0xFF // IHDR CRC
        let q = try file("crc2.png", badHeader)
        assertImageError(try ImageCodec.decode(path: q), path: q) {
            $0 == .corrupt(path: q, format: .png, detail: "CRC error in IHDR chunk")
        }
    }

    func testZeroDimensionsInHeader() throws {
        let png = PNGChunks.signature + RawPNG.ihdr(width: 0, height: 0, bitDepth: 8, colorType: 2, interlace: false)
            + RawPNG.chunk("IEND", [])
        let p = try file("zero.png", png)
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .zeroDimensions(path: p, format: .png) }
        assertImageError(try ImageCodec.readHeader(path: p), path: p) { $0 == .zeroDimensions(path: p, format: .png) }

        var jpg = try ImageCodec.encode(naturalImage(), as: .jpeg)
        let sof = JPEGMarkers.segments(jpg).first { $0.marker == 0xC0 }!.data.lowerBound
        jpg[sof + 1] = 0; jpg[sof + 2] = 0
        let q = try file("zero.jpg", jpg)
        assertImageError(try ImageCodec.decode(path: q), path: q) { $0 == .zeroDimensions(path: q, format: .jpeg) }
        // libjpeg's own check (the C shim maps JERR_EMPTY_IMAGE) agrees.
        var out: UnsafeMutablePointer<UInt8>?
        var info = cjpeg_info()
        var err = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(cjpeg_decode(jpg, UInt(jpg.count), 1 << 40, &out, &info, &err, err.count), CJPEG_EMPTY)
        XCTAssertNil(out)
    }

    func testHugeDeclaredSizeFailsFromHeader() throws {
        // A 100000x100000 RGBA PNG would need 40 GB; the file is 60 bytes.
        let png = PNGChunks.signature + RawPNG.ihdr(width: 100_000, height: 100_000, bitDepth: 8, colorType: 6, interlace: false)
            + RawPNG.chunk("IDAT", RawPNG.zlib([0, 0, 0, 0, 0])) + RawPNG.chunk("IEND", [])
        let p = try file("big.png", png)
        let start = Date()
        assertImageError(try ImageCodec.decode(path: p), path: p) {
            $0 == .tooManyPixels(path: p, width: 100_000, height: 100_000, limit: 100_000_000)
        }
        assertImageError(try ImageCodec.readHeader(path: p), path: p) {
            $0 == .tooManyPixels(path: p, width: 100_000, height: 100_000, limit: 100_000_000)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        XCTAssertEqual(ImageError.tooManyPixels(path: "big.png", width: 100_000, height: 100_000, limit: 100_000_000).errorDescription,
                       "big.png: 100000x100000 pixels (10000 megapixels) exceeds the limit of 100 megapixels")

        // JPEG: 60000x60000 declared in SOF.
        var jpg = try ImageCodec.encode(naturalImage(), as: .jpeg)
        let sof = JPEGMarkers.segments(jpg).first { $0.marker == 0xC0 }!.data.lowerBound
        jpg[sof + 1] = 0xEA; jpg[sof + 2] = 0x60; jpg[sof + 3] = 0xEA; jpg[sof + 4] = 0x60
        let q = try file("big.jpg", jpg)
        assertImageError(try ImageCodec.decode(path: q), path: q) {
            $0 == .tooManyPixels(path: q, width: 60_000, height: 60_000, limit: 100_000_000)
        }
        // A lower limit set by the caller, enforced by the C shim right after jpeg_read_header as well.
        let small = try ImageCodec.encode(naturalImage(), as: .jpeg)
        assertImageError(try ImageCodec.decode(bytes: small, path: "s.jpg", options: DecodeOptions(maxPixels: 1000)), path: "s.jpg") {
            $0 == .tooManyPixels(path: "s.jpg", width: 96, height: 64, limit: 1000)
        }
        var out: UnsafeMutablePointer<UInt8>?
        var info = cjpeg_info()
        var err = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(cjpeg_decode(small, UInt(small.count), 1000, &out, &info, &err, err.count), CJPEG_TOO_MANY_PIXELS)
        XCTAssertEqual(info.width, 96)
        XCTAssertNil(out)
    }

    func testFileSizeLimit() throws {
        let p = try file("x.png", try ImageCodec.encode(naturalImage(), as: .png))
        assertImageError(try ImageCodec.decode(path: p, options: DecodeOptions(maxFileBytes: 100)), path: p) {
            if case .fileTooLarge(_, _, 100) = $0 { return true } else { return false }
        }
    }

    func testDirectoryNamedLikeAnImage() throws {
        let p = dir + "/folder.jpg"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: false)
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .isDirectory(path: p) }
    }

    func testFIFOIsRefusedWithoutBlocking() throws {
        let p = dir + "/pipe.png"
        XCTAssertEqual(mkfifo(p, 0o644), 0)
        assertImageError(try ImageCodec.decode(path: p), path: p) {
            $0 == .notRegularFile(path: p, kind: "FIFO (named pipe)")
        }
        XCTAssertEqual(ImageError.notRegularFile(path: p, kind: "FIFO (named pipe)").reason, "is a FIFO (named pipe), not a regular file")
    }

    func testCharacterDeviceIsRefused() {
        assertImageError(try ImageCodec.decode(path: "/dev/zero"), path: "/dev/zero") {
            $0 == .notRegularFile(path: "/dev/zero", kind: "character device")
        }
    }

    /// As root, `chmod 000` does not stop reads (CAP_DAC_OVERRIDE), so the real check runs only for
    /// other users; the errno mapping is checked always. The CLI's end-to-end tests cover it with `setpriv`.
    func testUnreadableFile() throws {
        XCTAssertEqual(ImageError.fromErrno(EACCES, path: "a.png"), .permissionDenied(path: "a.png"))
        XCTAssertEqual(ImageError.permissionDenied(path: "a.png").errorDescription, "a.png: permission denied")
        guard geteuid() != 0 else { return }
        let p = try file("secret.png", try ImageCodec.encode(naturalImage(), as: .png))
        XCTAssertEqual(chmod(p, 0), 0)
        assertImageError(try ImageCodec.decode(path: p), path: p) { $0 == .permissionDenied(path: p) }
    }
}
