import Foundation

/// `path` made absolute against `directory`, with `~` expanded and `.` and `..` removed lexically.
///
/// Symbolic links are not resolved: the path stays the one the user sees, which is how the store records
/// file locations (``FileRecord/path``) and where it looks for its own database.
public func absolutePath(_ path: String,
                         relativeTo directory: String = FileManager.default.currentDirectoryPath) -> String {
    let expanded = (path as NSString).expandingTildeInPath
    let joined = expanded.hasPrefix("/") ? expanded : directory + "/" + expanded
    var parts: [Substring] = []
    for part in joined.split(separator: "/") where part != "." {
        if part == ".." { _ = parts.popLast() } else { parts.append(part) }
    }
    return "/" + parts.joined(separator: "/")
}
