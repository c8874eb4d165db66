import Foundation

/// Whether an output folder may be written into: Cloak names its outputs after their inputs (or with fixed
/// names), so a folder holding files it did not make (a clean backup of a data set, say) must be refused before
/// any of them is written over.
enum FolderOwnership {
    /// The first regular, non-hidden file under any of `roots` (searched recursively; missing roots are
    /// skipped), or nil when there is none.
    static func firstFile(under roots: [String]) -> String? {
        for root in roots {
            guard let files = FileManager.default.enumerator(
                at: URL(fileURLWithPath: root), includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            else { continue }
            for case let url as URL in files
            where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
                return url.path
            }
        }
        return nil
    }
}
