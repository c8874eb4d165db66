import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a file or folder could not be written. Every case names the path.
public enum FileWriteError: Error, LocalizedError, Equatable {
    /// The path to write is a folder.
    case isDirectory(path: String)
    case permissionDenied(path: String)
    case writeFailed(path: String, reason: String)

    public var path: String {
        switch self {
        case .isDirectory(let p), .permissionDenied(let p), .writeFailed(let p, _): return p
        }
    }

    /// The reason without the path.
    public var reason: String {
        switch self {
        case .isDirectory: return "is a directory, not a file"
        case .permissionDenied: return "permission denied"
        case .writeFailed(_, let reason): return "cannot write (\(reason))"
        }
    }

    public var errorDescription: String? { "\(path): \(reason)" }
}

/// Writes `bytes` to `path` atomically: into a new temporary file in the same directory
/// (`.<name>.cloak-tmp-<random>`, mode 0644 minus umask), `fsync`, then `rename(2)` over `path`.
/// Readers see either the old file or the complete new one, never a partial write; on failure the
/// temporary file is removed and `path` is untouched.
///
/// The caller is responsible for not passing an input path it still needs (this function replaces
/// whatever is at `path` unless it is a directory).
///
/// - Parameters:
///   - createParentDirectories: create missing parent directories first (like `mkdir -p`).
///   - durable: `fsync` the data before the rename, so the new file survives a power cut. Bulk writers of
///     many small files (data set export) pass `false` and call `sync()` once at the end instead.
/// - Throws: `FileWriteError.isDirectory`, `.permissionDenied` or `.writeFailed`, naming `path`.
public func writeFileAtomically(_ bytes: [UInt8], to path: String, createParentDirectories: Bool = false,
                                durable: Bool = true) throws {
    let dir: String
    let name: String
    if let slash = path.lastIndex(of: "/") {
        dir = slash == path.startIndex ? "/" : String(path[..<slash])
        name = String(path[path.index(after: slash)...])
    } else {
        dir = "."
        name = path
    }
    guard !name.isEmpty else { throw FileWriteError.isDirectory(path: path) }
    if createParentDirectories { try createDirectory(dir, forWriting: path) }
    var st = stat()
    if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { throw FileWriteError.isDirectory(path: path) }

    func failure(_ code: Int32) -> FileWriteError {
        code == EACCES || code == EPERM
            ? .permissionDenied(path: path)
            : .writeFailed(path: path, reason: String(cString: strerror(code)))
    }
    let tmp = (dir == "/" ? "" : dir) + "/" + temporaryName(for: name)
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure(errno) }
    var ok = false
    defer { if !ok { unlink(tmp) } }
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            throw failure(e)
        }
        done += n
    }
    if durable, fsync(fd) != 0 { let e = errno; close(fd); throw failure(e) }
    if close(fd) != 0 { throw failure(errno) }
    if rename(tmp, path) != 0 { throw failure(errno) }
    ok = true
}

/// Creates the folder `dir`, and any missing folder above it (like `mkdir -p`); one that already exists is
/// fine. Writers about to write many files at once call it first, so that no two writes race to create the
/// same folder.
/// - Throws: `FileWriteError.writeFailed` naming `path` (the file to be written there) or else `dir`.
public func createDirectory(_ dir: String, forWriting path: String? = nil) throws {
    if let file = fileInTheWay(of: dir) {
        let what = file == dir ? "it is a file, not a folder" : "\(file) is a file, not a folder"
        throw FileWriteError.writeFailed(path: path ?? dir, reason: path == nil ? what : "cannot create directory \(dir): \(what)")
    }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        let reason = systemReason(error)
        throw FileWriteError.writeFailed(path: path ?? dir, reason: path == nil ? "cannot create the folder: \(reason)"
                                                                             : "cannot create directory \(dir): \(reason)")
    }
}

/// The nearest part of `folder` that exists (itself, or a folder above it) when that is a file: what keeps
/// `folder` from being created. `nil` when nothing is in the way.
public func fileInTheWay(of folder: String) -> String? {
    var existing = folder
    while !existing.isEmpty, existing != "/", access(existing, F_OK) != 0 {
        existing = (existing as NSString).deletingLastPathComponent
    }
    var isFolder: ObjCBool = false
    guard !existing.isEmpty, FileManager.default.fileExists(atPath: existing, isDirectory: &isFolder), !isFolder.boolValue
    else { return nil }
    return existing
}

/// The system's short reason for a failed file operation ("Permission denied"), or Foundation's description.
public func systemReason(_ error: Error) -> String {
    if let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    return (error as NSError).localizedDescription
}

/// Removes the temporary files that ``writeFileAtomically(_:to:createParentDirectories:durable:)`` calls cut
/// short by a crash or `kill -9` left behind (`.<name>.cloak-tmp-<hex>`), in `directory` and, with
/// `recursive`, in every folder below it. Nothing else is touched; a folder that cannot be read is skipped.
/// Call it where no other write into these folders is under way. Returns how many files it removed.
@discardableResult
public func removeAbandonedTemporaryFiles(in directory: String, recursive: Bool) -> Int {
    let manager = FileManager.default
    let names: [String]
    if recursive {
        guard let walk = manager.enumerator(atPath: directory) else { return 0 }
        names = walk.compactMap { $0 as? String }
    } else {
        names = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
    }
    var removed = 0
    for relative in names where isAbandonedTemporaryName((relative as NSString).lastPathComponent) {
        if (try? manager.removeItem(atPath: directory + "/" + relative)) != nil { removed += 1 }
    }
    return removed
}

/// The name of the temporary file ``writeFileAtomically(_:to:createParentDirectories:durable:)`` writes
/// before renaming it to `name`: `.<name>.cloak-tmp-<random hex>`, hidden from folder listings.
func temporaryName(for name: String) -> String {
    "." + name + ".cloak-tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
}

/// Whether `name` is one of ``writeFileAtomically(_:to:createParentDirectories:durable:)``'s temporary file
/// names: `.` + the target's name + `.cloak-tmp-` + 1 to 16 lowercase hex digits.
public func isAbandonedTemporaryName(_ name: String) -> Bool {
    guard name.hasPrefix("."), let marker = name.range(of: ".cloak-tmp-", options: .backwards),
          marker.lowerBound > name.index(after: name.startIndex) else { return false }
    let suffix = name[marker.upperBound...]
    return (1...16).contains(suffix.count) && suffix.allSatisfy { $0.isHexDigit && !$0.isUppercase }
}
