import Foundation

/// Fashion-MNIST (Zalando Research, MIT licence), as Debian's `dataset-fashion-mnist` ships it.
///
/// 60,000 training and 10,000 test images, 28x28 grey, ten classes. Labels are 0...9 in the order of
/// ``classNames``.
public enum FashionMNIST {
    /// Where Debian's package installs the gzip-compressed IDX files.
    public static let debianDirectory = "/usr/share/datasets/fashion-mnist"

    /// Class names by label, as folder-safe names (`/` replaced by `_`).
    public static let classNames = [
        "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot",
    ]

    /// The two splits.
    public enum Split: String, CaseIterable, Sendable {
        case train, test

        /// File-name prefix of the split's IDX files.
        var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// The image and label files of a split under `directory`.
    public static func files(of split: Split, in directory: String = debianDirectory) -> (images: String, labels: String) {
        ("\(directory)/\(split.filePrefix)-images-idx3-ubyte.gz", "\(directory)/\(split.filePrefix)-labels-idx1-ubyte.gz")
    }

    /// One split in memory: `count` images of `height x width` unsigned bytes (row-major, image after image)
    /// and their labels.
    public struct Images: Sendable {
        public var count: Int
        public var height: Int
        public var width: Int
        /// `count * height * width` grey samples, 0 = black.
        public var pixels: [UInt8]
        /// `count` labels in 0...9.
        public var labels: [UInt8]

        /// The grey samples of image `index`.
        public func image(_ index: Int) -> ArraySlice<UInt8> {
            let n = height * width
            return pixels[(index * n)..<((index + 1) * n)]
        }
    }

    /// Loads a split from its two IDX files.
    ///
    /// - Throws: ``DatasetError`` when a file is missing or malformed, or when the files disagree.
    public static func load(_ split: Split, from directory: String = debianDirectory) throws -> Images {
        let paths = files(of: split, in: directory)
        let images = try IDXArray(contentsOf: paths.images)
        let labels = try IDXArray(contentsOf: paths.labels)
        guard images.dimensions.count == 3 else {
            throw DatasetError.malformedIDX(path: paths.images, reason: "images need 3 dimensions, found \(images.dimensions.count)")
        }
        guard labels.dimensions.count == 1 else {
            throw DatasetError.malformedIDX(path: paths.labels, reason: "labels need 1 dimension, found \(labels.dimensions.count)")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DatasetError.mismatchedSplit(images: paths.images, labels: paths.labels,
                                               reason: "\(images.dimensions[0]) images but \(labels.dimensions[0]) labels")
        }
        if let bad = labels.values.first(where: { Int($0) >= classNames.count }) {
            throw DatasetError.malformedIDX(path: paths.labels, reason: "label \(bad) is not in 0...9")
        }
        return Images(count: images.dimensions[0], height: images.dimensions[1], width: images.dimensions[2],
                      pixels: images.values, labels: labels.values)
    }
}
