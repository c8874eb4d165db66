import Foundation

/// A labelled image data set on disk: `root/<class>/<image>.png|jpg|jpeg`.
///
/// Classes are the sub-folders of `root`, sorted by name in byte order; a class's index is its position
/// in ``classes`` (as PyTorch's `torchvision.datasets.ImageFolder` does). Images are found recursively
/// inside each class folder by ``FileWalker`` and listed in byte order of their paths, so the order is
/// deterministic. Folders with no images are not classes. Within a class, two files whose paths differ only
/// in the extension (`0.jpg`, `0.png`) would have one cloaked copy (`0.png`): the first in byte order is
/// kept, the other is listed in ``problems``.
public struct ImageFolder: Sendable {
    /// The data set's root folder.
    public let root: String
    /// Class names in index order.
    public let classes: [String]
    /// Every image as (path, class index), in class order then path order.
    public let samples: [(path: String, label: Int)]
    /// Paths that could not be used (link loops, unreadable folders, folders named like images, ...).
    public let problems: [WalkProblem]

    /// Lists the data set under `root`.
    ///
    /// - Throws: ``DatasetError/missing(path:)``, ``DatasetError/notAFolder(path:)``, or
    ///   ``DatasetError/noClasses(path:)`` when no class folder holds an image.
    public init(root: String, walker: FileWalker = FileWalker()) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw DatasetError.missing(path: root)
        }
        guard isDirectory.boolValue else { throw DatasetError.notAFolder(path: root) }
        self.root = root
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw DatasetError.unreadable(path: root, reason: FileWalker.reason(error))
        }
        var classes: [String] = []
        var samples: [(String, Int)] = []
        var problems: [WalkProblem] = []
        // Class folders with their identities, found once; one reached under two names is a single class.
        var classFolders: [(name: String, path: String)] = []
        var avoided: [FileWalker.FileID: String] = [:]
        if case .folder(let id) = FileWalker.kind(of: root) { avoided[id] = root }
        for name in names.sorted(by: FileWalker.byteOrder) where !name.hasPrefix(".") {
            let path = (root as NSString).appendingPathComponent(name)
            guard case .folder(let id) = FileWalker.kind(of: path) else { continue }
            if let earlier = avoided[id] {
                problems.append(WalkProblem(path: path, reason: "the same folder as \(earlier) (a symbolic link); skipped, not a second class"))
                continue
            }
            avoided[id] = path
            classFolders.append((name, path))
        }
        for (name, path) in classFolders {
            // A link inside one class to the root or to another class would relabel that class's images.
            let walked = walker.walk([path], avoiding: avoided)
            problems += walked.problems
            // Cloaked copies (always .png) and clean originals are paired by path without extension, so two
            // files that differ only in it ("0.jpg", "0.png") would write one output: the first is kept.
            var stems: [String: String] = [:]
            var files: [String] = []
            for file in walked.files {
                let stem = (file as NSString).deletingPathExtension
                if let first = stems[stem] {
                    problems.append(WalkProblem(path: file, reason: "has the same name as \(first) apart from the extension, "
                        + "so their outputs would be one file; left out (rename one of them)"))
                } else {
                    stems[stem] = file
                    files.append(file)
                }
            }
            if files.isEmpty { continue }
            let label = classes.count
            classes.append(name)
            samples += files.map { ($0, label) }
        }
        guard !classes.isEmpty else { throw DatasetError.noClasses(path: root) }
        self.classes = classes
        self.samples = samples
        self.problems = problems
    }

    /// Number of images.
    public var count: Int { samples.count }

    /// Number of images per class, by class index.
    public var countsPerClass: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for s in samples { counts[s.label] += 1 }
        return counts
    }
}

/// Indices of the first `limit` items of each label, in order (all indices when `limit` is `nil`).
public func firstIndicesPerLabel(_ labels: [Int], limit: Int?) -> [Int] {
    guard let limit else { return Array(labels.indices) }
    var taken: [Int: Int] = [:]
    var out: [Int] = []
    for (i, label) in labels.enumerated() where taken[label, default: 0] < limit {
        taken[label, default: 0] += 1
        out.append(i)
    }
    return out
}

extension ImageFolder {
    /// Sample indices of the first `limitPerClass` images of each class (all when `nil`).
    public func indices(limitPerClass: Int?) -> [Int] {
        firstIndicesPerLabel(samples.map(\.label), limit: limitPerClass)
    }
}
