import Foundation

/// Every failure of reading, decoding, encoding or writing an image.
///
/// Each case carries the file path it is about (for in-memory work, the name the caller passed), and
/// `errorDescription` reads `"<path>: <reason>"`, e.g. `"photo.jpg: truncated JPEG (Premature end of JPEG file)"`.
public enum ImageError: Error, LocalizedError, Equatable, Sendable {
    /// Nothing exists at the path.
    case notFound(path: String)
    /// The path is a directory.
    case isDirectory(path: String)
    /// The path is not a regular file; `kind` names what it is ("FIFO", "socket", "character device", ...).
    case notRegularFile(path: String, kind: String)
    /// The file (or a directory on the way) may not be read or written.
    case permissionDenied(path: String)
    /// The file is empty.
    case emptyFile(path: String)
    /// The file is larger than the limit (`DecodeOptions.maxFileBytes`).
    case fileTooLarge(path: String, bytes: Int, limit: Int)
    /// Some other operating-system failure while reading; `reason` is the `strerror` text.
    case readFailed(path: String, reason: String)
    /// The bytes start with neither the PNG nor the JPEG signature. `prefix` holds up to 4 first bytes.
    case unknownFormat(path: String, prefix: [UInt8])
    /// The header declares a zero width or height.
    case zeroDimensions(path: String, format: ImageFormat)
    /// The header declares more pixels than the limit (`DecodeOptions.maxPixels`). Checked before decoding.
    case tooManyPixels(path: String, width: Int, height: Int, limit: Int)
    /// The data ends before the image does. `detail` is the library's message.
    case truncated(path: String, format: ImageFormat, detail: String)
    /// The data is damaged (bad CRC, invalid stream, ...). `detail` is the library's message.
    case corrupt(path: String, format: ImageFormat, detail: String)
    /// A valid file of a kind this module does not handle.
    case unsupported(path: String, detail: String)
    /// The encoder failed (libpng/libjpeg message in `reason`).
    case encodeFailed(path: String, format: ImageFormat, reason: String)
    /// Writing the output failed; `reason` is the `strerror` text or a description.
    case writeFailed(path: String, reason: String)

    /// The path this error is about.
    public var path: String {
        switch self {
        case .notFound(let p), .isDirectory(let p), .permissionDenied(let p), .emptyFile(let p): return p
        case .notRegularFile(let p, _), .fileTooLarge(let p, _, _), .readFailed(let p, _): return p
        case .unknownFormat(let p, _), .zeroDimensions(let p, _), .tooManyPixels(let p, _, _, _): return p
        case .truncated(let p, _, _), .corrupt(let p, _, _), .unsupported(let p, _): return p
        case .encodeFailed(let p, _, _), .writeFailed(let p, _): return p
        }
    }

    /// The reason without the path.
    public var reason: String {
        switch self {
        case .notFound: return "no such file"
        case .isDirectory: return "is a directory, not an image file"
        case .notRegularFile(_, let kind): return "is a \(kind), not a regular file"
        case .permissionDenied: return "permission denied"
        case .emptyFile: return "empty file (0 bytes)"
        case .fileTooLarge(_, let bytes, let limit):
            return "file is \(bytes) bytes, more than the limit of \(limit) bytes"
        case .readFailed(_, let reason): return "cannot read (\(reason))"
        case .unknownFormat(_, let prefix):
            if prefix.isEmpty { return "not a PNG or JPEG file" }
            let hex = prefix.map { String(format: "0x%02x", $0) }.joined(separator: " ")
            return "not a PNG or JPEG file (starts with \(hex))"
        case .zeroDimensions(_, let format): return "\(format.displayName) header declares a zero width or height"
        case .tooManyPixels(_, let w, let h, let limit):
            return "\(w)x\(h) pixels (\(Self.megapixels(w * h)) megapixels) exceeds the limit of "
                + "\(Self.megapixels(limit)) megapixels"
        case .truncated(_, let format, let detail): return "truncated \(format.displayName) (\(detail))"
        case .corrupt(_, let format, let detail): return "corrupt \(format.displayName) (\(detail))"
        case .unsupported(_, let detail): return "unsupported image (\(detail))"
        case .encodeFailed(_, let format, let reason): return "cannot encode \(format.displayName) (\(reason))"
        case .writeFailed(_, let reason): return "cannot write (\(reason))"
        }
    }

    public var errorDescription: String? { "\(path): \(reason)" }

    /// Millions of pixels, whole numbers from 10 up, one decimal below.
    static func megapixels(_ pixels: Int) -> String {
        let mp = Double(pixels) / 1_000_000
        return mp >= 10 ? String(Int(mp.rounded())) : String(format: "%.1f", mp)
    }

    /// Maps an `errno` from `stat`/`open`/`read` on `path` to a typed error.
    static func fromErrno(_ code: Int32, path: String) -> ImageError {
        switch code {
        case ENOENT, ENOTDIR: return .notFound(path: path)
        case EACCES, EPERM: return .permissionDenied(path: path)
        case EISDIR: return .isDirectory(path: path)
        default: return .readFailed(path: path, reason: String(cString: strerror(code)))
        }
    }
}
