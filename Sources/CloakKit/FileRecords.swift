import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// Building store records for files on disk.
enum FileRecords {
    /// A record for bytes about to be (or just) written at `path`.
    static func record(bytes: [UInt8], path: String, width: Int?, height: Int?, format: String?) -> FileRecord {
        FileRecord(sha256: FileDigest.sha256(bytes), path: absolute(path), byteCount: Int64(bytes.count),
                   width: width, height: height, format: format)
    }

    /// A record for an existing file, hashed from disk.
    static func record(ofFileAt path: String, width: Int? = nil, height: Int? = nil, format: String? = nil) throws -> FileRecord {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        return FileRecord(sha256: try FileDigest.sha256(ofFileAt: path), path: absolute(path), byteCount: size,
                          width: width, height: height, format: format)
    }

    /// `path` relative to `root` (a folder it lies under) without its extension: how an image and its clean
    /// original or cloaked copy in a mirrored tree are paired ("Bag/00023.png" and "Bag/00023.jpg" pair).
    static func relativeStem(of path: String, under root: String) -> String {
        let relative = path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
        return (relative as NSString).deletingPathExtension
    }

    /// `path` made absolute against the working directory (see ``absolutePath(_:relativeTo:)``).
    static func absolute(_ path: String) -> String { absolutePath(path) }
}
