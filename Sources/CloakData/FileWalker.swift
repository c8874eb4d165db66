import CloakImage
import CloakSupport
import Foundation

/// A path the walker could not use, with the reason (reported to the user and recorded in the store).
public struct WalkProblem: Sendable, Equatable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `"<path>: <reason>"`, the form every Cloak error message takes.
    public var message: String { "\(path): \(reason)" }
}

/// Finds image files under files and folders, recursively, in a deterministic order.
///
/// - Image files are recognised by extension (`.png`, `.jpg`, `.jpeg`, any case); what they contain is
///   checked later, by the decoder.
/// - Entries are visited in byte order of their names, so the same tree always gives the same list.
/// - Symbolic links are followed. A link loop, or a link back to a folder already being walked, is
///   reported as a problem instead of being walked forever; a dangling link is reported too.
/// - A folder named like an image (`photo.jpg/`) is reported, not entered: it is almost always a mistake,
///   and entering it would hide that.
/// - Hidden entries (names starting with `.`) are skipped.
public struct FileWalker: Sendable {
    /// Lower-case extensions (without the dot) taken as images.
    public var extensions: Set<String>

    public init(extensions: Set<String> = ["png", "jpg", "jpeg"]) {
        self.extensions = extensions
    }

    /// The result of a walk: image files in order, and the paths that could not be used.
    public struct Result: Sendable {
        public var files: [String]
        public var problems: [WalkProblem]
    }

    /// True when `path`'s extension is one of ``extensions``.
    public func isImageName(_ path: String) -> Bool {
        extensions.contains((path as NSString).pathExtension.lowercased())
    }

    /// Walks each of `paths` (files or folders). A file given directly is included whatever its
    /// extension; the decoder will judge it.
    public func walk(_ paths: [String]) -> Result {
        walk(paths, avoiding: [:])
    }

    /// ``walk(_:)``, except that a folder reached through a link that is one of `avoided` (by identity, with
    /// the path to name it by) is reported and not entered: an image folder's walk of one class must not
    /// wander, through a link, into the data set's root or another class, whose images would then get this
    /// class's label. A folder in `paths` is walked even when it is among `avoided`.
    func walk(_ paths: [String], avoiding avoided: [FileID: String]) -> Result {
        var result = Result(files: [], problems: [])
        var seenFolders = Set<FileID>()
        for path in paths {
            switch Self.kind(of: path) {
            case .folder(let id):
                var others = avoided
                others[id] = nil
                walkFolder(path, id: id, ancestors: [], avoided: others, seen: &seenFolders, into: &result)
            case .file:
                result.files.append(path)
            case .other(let reason):
                result.problems.append(WalkProblem(path: path, reason: reason))
            }
        }
        return result
    }

    /// Walks one folder's contents.
    func walkFolder(_ folder: String, id: FileID, ancestors: Set<FileID>, avoided: [FileID: String],
                    seen: inout Set<FileID>, into result: inout Result) {
        if ancestors.contains(id) {
            result.problems.append(WalkProblem(path: folder, reason: "symbolic link loop (leads back to a folder being walked); skipped"))
            return
        }
        if let other = avoided[id] {
            result.problems.append(WalkProblem(path: folder, reason: "symbolic link to \(other), which is walked on its own; skipped"))
            return
        }
        if seen.contains(id) { return }   // reached twice through links: walk it once
        seen.insert(id)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            result.problems.append(WalkProblem(path: folder, reason: "cannot list folder (\(Self.reason(error)))"))
            return
        }
        var inner = ancestors
        inner.insert(id)
        for name in names.sorted(by: Self.byteOrder) where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            switch Self.kind(of: path) {
            case .folder(let child):
                if isImageName(name) {
                    result.problems.append(WalkProblem(path: path, reason: "is a folder named like an image; not entered"))
                } else {
                    walkFolder(path, id: child, ancestors: inner, avoided: avoided, seen: &seen, into: &result)
                }
            case .file:
                if isImageName(name) { result.files.append(path) }
            case .other(let reason):
                if isImageName(name) || reason.contains("link") {
                    result.problems.append(WalkProblem(path: path, reason: reason))
                }
            }
        }
    }

    /// Device and inode of a folder: its identity whatever path or link reaches it.
    struct FileID: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    enum Kind {
        case folder(FileID)
        case file
        case other(String)
    }

    /// What `path` is, following symbolic links.
    static func kind(of path: String) -> Kind {
        var st = stat()
        if stat(path, &st) != 0 {
            let code = errno
            switch code {
            case ELOOP: return .other("symbolic link loop")
            case ENOENT:
                var lst = stat()
                if lstat(path, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK {
                    return .other("dangling symbolic link")
                }
                return .other("no such file or folder")
            default: return .other(String(cString: strerror(code)))
            }
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .folder(FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
        case S_IFREG: return .file
        case S_IFIFO: return .other("is a named pipe, not a regular file")
        case S_IFSOCK: return .other("is a socket, not a regular file")
        case S_IFCHR, S_IFBLK: return .other("is a device, not a regular file")
        default: return .other("not a regular file")
        }
    }

    /// Byte-wise name order (what `sorted()` gives in Python and `ls` gives in the C locale).
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    static func reason(_ error: Error) -> String { systemReason(error) }
}
