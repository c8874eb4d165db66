import Foundation

/// Expected failures while reading data sets. Each message names the path.
public enum DatasetError: Error, LocalizedError, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case malformedIDX(path: String, reason: String)
    case mismatchedSplit(images: String, labels: String, reason: String)
    case notAFolder(path: String)
    case noClasses(path: String)

    public var errorDescription: String? {
        switch self {
        case .missing(let path): return "\(path): no such file or folder"
        case .unreadable(let path, let reason): return "\(path): cannot read (\(reason))"
        case .malformedIDX(let path, let reason): return "\(path): not a valid IDX file (\(reason))"
        case .mismatchedSplit(let images, let labels, let reason):
            return "\(images) and \(labels) do not belong together: \(reason)"
        case .notAFolder(let path): return "\(path): not a folder"
        case .noClasses(let path):
            return "\(path): no class folders with images found (expected <root>/<class>/<image>.png|jpg|jpeg)"
        }
    }
}
