import CloakFace
import Foundation
import XCTest

/// dlib's serialisation primitives on hand-made bytes (values from the notes' annotated `xxd` dumps).
final class DlibReaderTests: XCTestCase {
    private func reader(_ bytes: [UInt8]) -> DlibReader { DlibReader(bytes: bytes, path: "test.dat") }

    func testIntegers() throws {
        var r = reader([0x01, 0x02, 0x02, 0x80, 0x12, 0x81, 0x1c, 0x01, 0x00, 0x01, 0x96])
        XCTAssertEqual(try r.readInteger(), 2)
        XCTAssertEqual(try r.readInteger(), 4736)
        XCTAssertEqual(try r.readInteger(), -28)
        XCTAssertEqual(try r.readInteger(), 0)
        XCTAssertEqual(try r.readUnsigned(), 150)
        XCTAssertTrue(r.isAtEnd)
        XCTAssertNoThrow(try r.expectEnd())
    }

    func testFloatsAsDlibWritesThem() throws {
        // margin 0.04 = 0xa3d70a * 2^-28, dist_thresh 0.6 = 0x99999a * 2^-24, zero = 01 00 01 0b.
        var r = reader([0x03, 0x0a, 0xd7, 0xa3, 0x81, 0x1c, 0x03, 0x9a, 0x99, 0x99, 0x81, 0x18, 0x01, 0x00, 0x01, 0x0b,
                        0x01, 0x05, 0x02, 0x00, 0x7d])
        XCTAssertEqual(try r.readFloat(), 0.04)
        XCTAssertEqual(try r.readFloat(), 0.6)
        XCTAssertEqual(try r.readDouble(), 0)
        XCTAssertEqual(try r.readDouble(), .infinity)  // exponent 32000
    }

    func testStringsBoolsAndTensor() throws {
        var bytes: [UInt8] = [0x01, 0x05] + Array("con_4".utf8) + [UInt8(ascii: "1"), UInt8(ascii: "0")]
        bytes += [0x01, 0x02, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01]  // tensor 1x2x1x1
        for v: Float in [1.5, -2] { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        var r = reader(bytes)
        XCTAssertEqual(try r.readString(), "con_4")
        XCTAssertTrue(try r.readBool())
        XCTAssertFalse(try r.readBool())
        let t = try r.readTensor("params")
        XCTAssertEqual(t.shape, [1, 2, 1, 1])
        XCTAssertEqual(t.values, [1.5, -2])
        XCTAssertTrue(r.isAtEnd)
    }

    func testErrorsNameFileOffsetAndExpectation() {
        var r = reader([0x01, 0x02, 0x03, 0x01])
        XCTAssertEqual(try r.readInteger(), 2)
        XCTAssertThrowsError(try r.readInteger("filter count")) { error in
            XCTAssertEqual(error as? DlibFormatError,
                           .unexpectedEnd(path: "test.dat", offset: 4, expected: "filter count"))
            XCTAssertEqual((error as? LocalizedError)?.errorDescription,
                           "test.dat: file ends at byte 4 while reading filter count (truncated download?)")
        }
        var bad = reader([0x31])
        XCTAssertThrowsError(try bad.readInteger("version")) { error in
            XCTAssertEqual(error as? DlibFormatError,
                           .invalid(path: "test.dat", offset: 0, expected: "version", found: "control byte 0x31"))
        }
        var negative = reader([0x81, 0x05])
        XCTAssertThrowsError(try negative.readUnsigned("count"))
        var boolean = reader([0x02])
        XCTAssertThrowsError(try boolean.readBool("flag"))
        var trailing = reader([0x01, 0x00, 0x00])
        XCTAssertNoThrow(try trailing.readInteger())
        XCTAssertThrowsError(try trailing.expectEnd()) { error in
            XCTAssertEqual(error as? DlibFormatError, .trailingBytes(path: "test.dat", offset: 2, count: 1))
        }
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try DlibReader(contentsOf: "/nonexistent/model.dat")) { error in
            XCTAssertEqual(error as? DlibFormatError, .unreadable(path: "/nonexistent/model.dat", reason: "no such file"))
        }
    }
}
