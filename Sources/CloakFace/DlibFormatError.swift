import Foundation

/// A dlib model file that does not hold what Cloak expects, byte by byte.
///
/// Every case names the file and the byte offset where reading stopped, so a truncated download or a
/// different model version is easy to tell apart from a bug.
public enum DlibFormatError: Error, LocalizedError, Equatable, Sendable {
    /// The file could not be read at all.
    case unreadable(path: String, reason: String)
    /// The file ended while `expected` was being read.
    case unexpectedEnd(path: String, offset: Int, expected: String)
    /// The bytes at `offset` are not a valid `expected`; `found` describes what is there.
    case invalid(path: String, offset: Int, expected: String, found: String)
    /// The model was read completely but `count` bytes remain after it.
    case trailingBytes(path: String, offset: Int, count: Int)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .unexpectedEnd(let path, _, _), .invalid(let path, _, _, _),
             .trailingBytes(let path, _, _):
            return path
        }
    }

    public var errorDescription: String? {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read dlib model file: \(reason)"
        case .unexpectedEnd(let path, let offset, let expected):
            return "\(path): file ends at byte \(offset) while reading \(expected) (truncated download?)"
        case .invalid(let path, let offset, let expected, let found):
            return "\(path): at byte \(offset): expected \(expected), found \(found)"
        case .trailingBytes(let path, let offset, let count):
            return "\(path): model ends at byte \(offset) but \(count) more bytes follow (not the expected model file)"
        }
    }
}
