import Foundation
import XCTest
@testable import CloakSupport

func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "cloaksupport-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

final class FileWritingTests: XCTestCase {
    func testTemporaryFilesOfInterruptedWritesAreRemovedAndNothingElse() throws {
        let dir = try temporaryDirectory(self)
        let names = [".a.png.cloak-tmp-9f3c2e10aa77b001", "b.png", ".b.png.cloak-tmp-zz", "notes.cloak-tmp-12",
                     ".hidden", ".c.jpg.cloak-tmp-", ".c.jpg.cloak-tmp-ABC"]
        for name in names { XCTAssertTrue(FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data([1]))) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/sub/.d.png.cloak-tmp-1", contents: Data([1])))
        XCTAssertTrue(isAbandonedTemporaryName(".x.cloak-tmp-0"))
        XCTAssertFalse(isAbandonedTemporaryName(".cloak-tmp-0"))   // no target name
        XCTAssertEqual(removeAbandonedTemporaryFiles(in: dir, recursive: false), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       (names.filter { !$0.hasPrefix(".a.png") } + ["sub"]).sorted())
        XCTAssertEqual(removeAbandonedTemporaryFiles(in: dir, recursive: true), 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub"), [])
        XCTAssertEqual(removeAbandonedTemporaryFiles(in: dir + "/missing", recursive: true), 0)
        // The names writeFileAtomically gives its temporary files are the ones removed
        for _ in 0..<100 { XCTAssertTrue(isAbandonedTemporaryName(temporaryName(for: "f.bin"))) }
    }

    func testAFileInTheWayOfAFolderIsNamed() throws {
        let dir = try temporaryDirectory(self)
        try writeFileAtomically([1], to: dir + "/file")
        XCTAssertThrowsError(try createDirectory(dir + "/file")) {
            XCTAssertEqual($0 as? FileWriteError, .writeFailed(path: dir + "/file", reason: "it is a file, not a folder"))
        }
        XCTAssertThrowsError(try createDirectory(dir + "/file/a/b")) {
            XCTAssertEqual($0 as? FileWriteError, .writeFailed(path: dir + "/file/a/b", reason: "\(dir)/file is a file, not a folder"))
        }
        XCTAssertThrowsError(try createDirectory(dir + "/file/a", forWriting: dir + "/file/a/x.png")) {
            XCTAssertEqual($0 as? FileWriteError, .writeFailed(
                path: dir + "/file/a/x.png", reason: "cannot create directory \(dir)/file/a: \(dir)/file is a file, not a folder"))
        }
        try createDirectory(dir + "/new/a/b")
        try createDirectory(dir + "/new/a/b")   // existing is fine
        var isFolder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/new/a/b", isDirectory: &isFolder) && isFolder.boolValue)
    }

    func testWritingOverADirectoryFails() throws {
        let dir = try temporaryDirectory(self)
        XCTAssertThrowsError(try writeFileAtomically([1, 2, 3], to: dir)) {
            XCTAssertEqual($0 as? FileWriteError, .isDirectory(path: dir))
            XCTAssertEqual(($0 as? FileWriteError)?.errorDescription, "\(dir): is a directory, not a file")
        }
    }

}

final class JSONTests: XCTestCase {
    struct Measured: Codable, Equatable { var psnr: Double }

    /// An unchanged image's PSNR is infinite: it is written, not replaced by a placeholder, and read back.
    func testNonFiniteNumbersRoundTrip() throws {
        let text = try JSON.string(Measured(psnr: .infinity))
        XCTAssertEqual(text, #"{"psnr":"Infinity"}"#)
        XCTAssertEqual(try JSON.decoder.decode(Measured.self, from: Data(text.utf8)), Measured(psnr: .infinity))
    }

    func testKeysAreSorted() throws {
        XCTAssertEqual(try JSON.string(["b": 1, "a": 2]), #"{"a":2,"b":1}"#)
    }
}

final class FileDigestTests: XCTestCase {
    func testKnownDigestAndAMissingFileIsNamed() throws {
        XCTAssertEqual(FileDigest.sha256(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertThrowsError(try FileDigest.sha256(ofFileAt: "/nonexistent/x")) {
            XCTAssertEqual($0 as? FileDigestError, .unreadable(path: "/nonexistent/x"))
        }
    }
}
