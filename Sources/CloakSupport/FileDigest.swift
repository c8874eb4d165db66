import Crypto
import Foundation

/// SHA-256 content hashes, the identity of every file the store knows.
public enum FileDigest {
    /// Lower-case hex SHA-256 of a byte buffer.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return hex(hasher.finalize())
    }

    /// The 32-byte SHA-256 digest of a byte buffer.
    public static func sha256Digest(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// Lower-case hex SHA-256 of a file's contents, read in 1 MiB chunks.
    ///
    /// - Throws: ``FileDigestError/unreadable(path:)`` when the file cannot be opened; Foundation's error when a read fails.
    public static func sha256(ofFileAt path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileDigestError.unreadable(path: path)
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hex(hasher.finalize())
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A file whose content hash could not be taken.
public enum FileDigestError: Error, LocalizedError, Equatable {
    case unreadable(path: String)

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path): return "\(path): cannot be read to take its content hash"
        }
    }
}
