import CZlib
import CloakTensor
import Foundation
@testable import CloakNN

/// Test-side reader for the gzipped IDX files of Fashion-MNIST (Debian `dataset-fashion-mnist`).
/// IDX: big-endian UInt32 magic (0x803 images, 0x801 labels), UInt32 extents, then UInt8 data.
enum FashionMNIST {
    static let directory = "/usr/share/datasets/fashion-mnist"

    static var isAvailable: Bool {
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"].allSatisfy { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Loads `train` or `t10k` as 28x28x1 images scaled to [0, 1].
    static func load(_ split: String, limit: Int = .max) throws -> LabelledImages {
        let images = try readIDX("\(directory)/\(split)-images-idx3-ubyte.gz", magic: 0x803)
        let labels = try readIDX("\(directory)/\(split)-labels-idx1-ubyte.gz", magic: 0x801)
        let count = min(limit, labels.extents[0])
        return LabelledImages(pixels: images.bytes.prefix(count * 784).map { Float($0) / 255 },
                              labels: labels.bytes.prefix(count).map(Int.init), height: 28, width: 28, channels: 1)
    }

    struct ReadError: Error, CustomStringConvertible { let description: String }

    private static func readIDX(_ path: String, magic: UInt32) throws -> (extents: [Int], bytes: [UInt8]) {
        guard let file = gzopen(path, "rb") else { throw ReadError(description: "cannot open \(path)") }
        defer { gzclose(file) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw ReadError(description: "gzread failed on \(path)") }
            if n == 0 { break }
            data += chunk[0..<Int(n)]
        }
        func u32(_ o: Int) -> UInt32 { data[o..<o + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        guard data.count >= 8, u32(0) == magic else { throw ReadError(description: "\(path): bad IDX magic") }
        let rank = magic == 0x803 ? 3 : 1
        let extents = (0..<rank).map { Int(u32(4 + 4 * $0)) }
        let header = 4 + 4 * rank
        guard data.count == header + extents.reduce(1, *) else { throw ReadError(description: "\(path): bad size") }
        return (extents, Array(data[header...]))
    }
}
