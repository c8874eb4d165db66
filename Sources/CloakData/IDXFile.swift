import CZlib
import Foundation

/// An array stored in the IDX format (the MNIST family's format), gzip-compressed or not.
///
/// Layout on disk: two zero bytes, a type byte (0x08 = unsigned byte, the only type supported), the
/// number of dimensions `d`, then `d` big-endian UInt32 sizes, then the data in row-major order.
/// Fashion-MNIST images are `[count, 28, 28]` (magic 0x00000803), labels `[count]` (0x00000801).
public struct IDXArray: Sendable, Equatable {
    /// Sizes of each dimension, outermost first.
    public var dimensions: [Int]
    /// Row-major unsigned-byte data, `dimensions.reduce(1, *)` values.
    public var values: [UInt8]

    /// Reads an IDX file, decompressing it when it is gzip-compressed (as Debian ships Fashion-MNIST).
    ///
    /// - Throws: ``DatasetError`` naming the file when it is missing, unreadable, truncated or not IDX.
    public init(contentsOf path: String) throws {
        let bytes = try Self.readDecompressed(path)
        try self.init(bytes: bytes, path: path)
    }

    /// Parses IDX bytes (already decompressed). `path` is used in error messages only.
    public init(bytes: [UInt8], path: String) throws {
        guard bytes.count >= 4 else { throw DatasetError.malformedIDX(path: path, reason: "only \(bytes.count) bytes") }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError.malformedIDX(path: path, reason: "bad magic number")
        }
        guard bytes[2] == 0x08 else {
            throw DatasetError.malformedIDX(path: path, reason: String(format: "element type 0x%02x is not unsigned byte", bytes[2]))
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else {
            throw DatasetError.malformedIDX(path: path, reason: "header of \(rank) dimensions is truncated")
        }
        var dims: [Int] = []
        for d in 0..<rank {
            let o = 4 + 4 * d
            dims.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let count = dims.reduce(1, *)
        let start = 4 + 4 * rank
        guard bytes.count - start == count else {
            throw DatasetError.malformedIDX(
                path: path, reason: "dimensions \(dims.map(String.init).joined(separator: "x")) need \(count) values, file has \(bytes.count - start)")
        }
        dimensions = dims
        values = Array(bytes[start...])
    }

    /// Reads a whole file through zlib, which passes uncompressed files through unchanged.
    static func readDecompressed(_ path: String) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw DatasetError.missing(path: path) }
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw DatasetError.unreadable(path: path, reason: "not a regular file") }
        guard let gz = gzopen(path, "rb") else {
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { gzclose(gz) }
        var out: [UInt8] = []
        out.reserveCapacity(Int(st.st_size) * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(gz, &code).map { String(cString: $0) } ?? "read error"
                throw DatasetError.unreadable(path: path, reason: message)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        // A truncated gzip stream ends early without an error from gzread; gzerror tells.
        var code: Int32 = 0
        if let msg = gzerror(gz, &code), code != Z_OK && code != Z_STREAM_END {
            throw DatasetError.unreadable(path: path, reason: String(cString: msg))
        }
        return out
    }
}
