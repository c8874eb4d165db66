import CZlib
import CloakTestSupport
import Foundation
import Testing
@testable import CloakData

func temporaryDirectory() throws -> String {
    try TestFolders.make("data")
}

/// Writes `bytes` gzip-compressed with zlib.
func writeGzip(_ bytes: [UInt8], to path: String) {
    let gz = gzopen(path, "wb")!
    _ = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
    gzclose(gz)
}

@Suite("IDX files and Fashion-MNIST")
struct IDXTests {
    @Test func parsesAGzippedIDXArray() throws {
        let dir = try temporaryDirectory()
        let header: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]
        let values = (0..<12).map { UInt8($0 * 20) }
        writeGzip(header + values, to: dir + "/x-idx3-ubyte.gz")
        let idx = try IDXArray(contentsOf: dir + "/x-idx3-ubyte.gz")
        #expect(idx.dimensions == [2, 2, 3])
        #expect(idx.values == values)
        // An uncompressed file reads the same
        #expect(FileManager.default.createFile(atPath: dir + "/raw", contents: Data(header + values)))
        #expect(try IDXArray(contentsOf: dir + "/raw") == idx)
    }

    @Test func rejectsMalformedFilesWithThePath() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/bad.gz"
        writeGzip([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2], to: path)   // 5 labels declared, 2 present
        #expect(throws: DatasetError.malformedIDX(path: path, reason: "dimensions 5 need 5 values, file has 2")) {
            try IDXArray(contentsOf: path)
        }
        writeGzip([1, 2, 3, 4, 5, 6], to: path)
        #expect(throws: DatasetError.malformedIDX(path: path, reason: "bad magic number")) { try IDXArray(contentsOf: path) }
        #expect(throws: DatasetError.missing(path: dir + "/none.gz")) { try IDXArray(contentsOf: dir + "/none.gz") }
        #expect(DatasetError.missing(path: "/x/y.gz").localizedDescription.contains("/x/y.gz"))
    }

    @Test func truncatedGzipIsAnError() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/t.gz"
        writeGzip([0, 0, 0x08, 1, 0, 0, 0x10, 0] + [UInt8](repeating: 7, count: 4096), to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes = bytes.prefix(bytes.count / 2)
        try bytes.write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.self) { try IDXArray(contentsOf: path) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: FashionMNIST.files(of: .test).images),
                   "needs Debian's dataset-fashion-mnist (make setup installs it)"))
    func loadsDebiansFashionMNIST() throws {
        let test = try FashionMNIST.load(.test)
        #expect(test.count == 10_000 && test.height == 28 && test.width == 28)
        #expect(test.pixels.count == 10_000 * 28 * 28)
        var perClass = [Int](repeating: 0, count: 10)
        for l in test.labels { perClass[Int(l)] += 1 }
        #expect(perClass == [Int](repeating: 1000, count: 10))
        // The first test image is an ankle boot (label 9), as in the published data set
        #expect(test.labels[0] == 9)
    }
}
