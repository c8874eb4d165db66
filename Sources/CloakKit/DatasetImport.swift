import CloakData
import CloakImage
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// Exports Fashion-MNIST from Debian's IDX files as a PNG ImageFolder tree, as a recorded run.
///
/// Output layout: `<output>/train/<class>/<index>.png` and `<output>/test/<class>/<index>.png`, where
/// `<class>` is one of ``FashionMNIST/classNames`` and `<index>` the image's zero-padded position in its IDX
/// file (so names stay the same whatever `limitPerClass` is). Each PNG is 28x28 8-bit grey, decoded back
/// after encoding and compared with the source pixels (L-inf must be 0). A marker file
/// `<output>/.cloak-import.json`, written last, makes a repeated import with the same sources and limit a
/// no-op; an interrupted import resumes (files already written with the right bytes are kept). An import into
/// an earlier import's folder replaces it: images beyond the new limit are removed. Split folders holding files
/// no import made are refused before anything is written.
public struct DatasetImport: Sendable, RecordedJob {
    /// What to import and where.
    public struct Options: Sendable, Codable, Equatable {
        /// Folder with the four gzip-compressed IDX files.
        public var sourceDirectory: String
        /// Root of the ImageFolder tree to write.
        public var outputDirectory: String
        /// When set, only the first N images of each class in each split (in IDX order).
        public var limitPerClass: Int?

        public init(sourceDirectory: String = FashionMNIST.debianDirectory,
                    outputDirectory: String = "Datasets/fashion-mnist", limitPerClass: Int? = nil) {
            self.sourceDirectory = sourceDirectory
            self.outputDirectory = outputDirectory
            self.limitPerClass = limitPerClass
        }
    }

    /// What an import did.
    public struct Summary: Sendable, Codable, Equatable {
        /// True when the output already held this exact import and nothing was done.
        public var alreadyImported: Bool
        /// The recording run (the earlier one when `alreadyImported`).
        public var runID: Int64?
        public var outputDirectory: String
        /// Images per split.
        public var counts: [String: Int]
        /// Files written by this invocation, and files found already correct (resumed import).
        public var written: Int
        public var unchanged: Int
        /// Images of an earlier import into the same folder beyond this one's limit, removed.
        public var removed: Int = 0
        public var seconds: Double
    }

    /// The marker written when an import completes.
    struct Marker: Codable, Equatable {
        var dataset: String
        var sources: [String: String]      // file name -> SHA-256
        var limitPerClass: Int?
        var counts: [String: Int]
        var runID: Int64
        var toolVersion: String
    }

    static let markerName = ".cloak-import.json"

    public var options: Options
    public var quiet: Bool

    public init(options: Options, quiet: Bool = false) {
        self.options = options
        self.quiet = quiet
    }

    /// Runs the import, recording it in `store` with the process `arguments`.
    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        try runRecorded(store: store, arguments: arguments)
    }

    static let command = "datasets import"

    /// The sources identified by content (the no-op check and the run both need them) and the earlier import's marker.
    struct Input {
        var began: Date
        var output: String
        var sources: [(role: String, record: FileRecord)]
        var sourceHashes: [String: String]
        var earlier: Marker?
    }

    func prepare() throws -> Input {
        let began = Date()
        if let limit = options.limitPerClass { precondition(limit >= 1, "limitPerClass must be at least 1") }
        var sources: [(role: String, record: FileRecord)] = []
        for split in FashionMNIST.Split.allCases {
            let files = FashionMNIST.files(of: split, in: options.sourceDirectory)
            for (role, path) in [("\(split.rawValue) images", files.images), ("\(split.rawValue) labels", files.labels)] {
                guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missing(path: path) }
                sources.append((role, try FileRecords.record(ofFileAt: path, format: "idx.gz")))
            }
        }
        let hashes = Dictionary(uniqueKeysWithValues: sources.map { (($0.record.path as NSString).lastPathComponent, $0.record.sha256) })
        let output = FileRecords.absolute(options.outputDirectory)
        return Input(began: began, output: output, sources: sources, sourceHashes: hashes, earlier: Self.readMarker(in: output))
    }

    func identity(of input: Input) throws -> JobIdentity {
        let parameters = try JSON.string(Options(sourceDirectory: FileRecords.absolute(options.sourceDirectory),
                                                 outputDirectory: input.output, limitPerClass: options.limitPerClass))
        return JobIdentity(parameters: parameters, resumeKey: "datasets import fashion-mnist " + parameters)
    }

    /// The earlier import's summary when its marker names these sources and limit and its images are all there.
    func finishedEarlier(_ input: Input, identity: JobIdentity) throws -> Summary? {
        guard let marker = input.earlier, marker.sources == input.sourceHashes, marker.limitPerClass == options.limitPerClass,
              marker.dataset == "fashion-mnist", Self.pngCounts(in: input.output) == marker.counts else { return nil }
        return Summary(alreadyImported: true, runID: marker.runID, outputDirectory: input.output, counts: marker.counts,
                       written: 0, unchanged: marker.counts.values.reduce(0, +), removed: 0,
                       seconds: Date().timeIntervalSince(input.began))
    }

    /// Every split exported (files already right are kept), images beyond the limit removed, the marker written last.
    func work(_ input: Input, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        if run.resumed && !quiet { StandardError.print("resuming run \(run.id)") }
        let output = input.output
        // Before any file is written: split folders holding files no import made are refused, since the images are
        // written under fixed names.
        let splitFolders = FashionMNIST.Split.allCases.map { "\(output)/\($0.rawValue)" }
        if input.earlier == nil, !run.resumed, let file = FolderOwnership.firstFile(under: splitFolders) {
            throw ImportError.foreignFiles(path: output, example: file)
        }
        for source in input.sources { try store.recordRunInput(runID: run.id, file: source.record, role: source.role) }
        var counts: [String: Int] = [:], written = 0, unchanged = 0, kept = Set<String>()
        for split in FashionMNIST.Split.allCases {
            let exported = try export(split, sources: input.sources, to: output, run: run, store: store)
            counts[split.rawValue] = exported.count
            written += exported.written
            unchanged += exported.unchanged
            kept.formUnion(exported.paths)
        }
        if run.resumed { removeAbandonedTemporaryFiles(in: output, recursive: true) }
        let removed = Self.removeImagesBeyondTheLimit(in: output, keeping: kept)
        sync()   // the images reach the disk before the marker says the import is complete
        let marker = Marker(dataset: "fashion-mnist", sources: input.sourceHashes, limitPerClass: options.limitPerClass,
                            counts: counts, runID: run.id, toolVersion: CloakVersion.current)
        try writeFileAtomically(Array(try JSON.pretty(marker).utf8) + [0x0A], to: "\(output)/\(Self.markerName)")
        return Summary(alreadyImported: false, runID: run.id, outputDirectory: output, counts: counts,
                       written: written, unchanged: unchanged, removed: removed, seconds: Date().timeIntervalSince(input.began))
    }

    /// One split's images exported: encoded, checked and written on all cores a chunk at a time, recorded in index
    /// order.
    private func export(_ split: FashionMNIST.Split, sources: [(role: String, record: FileRecord)], to output: String,
                        run: RecordedRun, store: ProvenanceStore) throws -> (count: Int, written: Int, unchanged: Int, paths: [String]) {
        let data = try FashionMNIST.load(split, from: options.sourceDirectory)
        let indices = firstIndicesPerLabel(data.labels.map(Int.init), limit: options.limitPerClass)
        guard let imagesRecord = sources.first(where: { $0.role == "\(split.rawValue) images" })?.record else {
            throw DatasetError.missing(path: FashionMNIST.files(of: split, in: options.sourceDirectory).images)
        }
        let progress = ProgressReporter("import \(split.rawValue)", total: indices.count, unit: "images", quiet: quiet)
        for className in Set(indices.map { FashionMNIST.classNames[Int(data.labels[$0])] }) {
            try createDirectory("\(output)/\(split.rawValue)/\(className)")
        }
        var batch: [OutputEntry] = [], written = 0, unchanged = 0, paths: [String] = []
        let chunk = 64 * max(1, ProcessInfo.processInfo.activeProcessorCount)
        for begin in stride(from: 0, to: indices.count, by: chunk) {
            let slice = Array(indices[begin..<min(begin + chunk, indices.count)])
            let exported = concurrentMap(count: slice.count) { k in
                Result { try Self.export(data, index: slice[k], split: split, to: output) }
            }
            for (k, outcome) in exported.enumerated() {
                let index = slice[k], label = Int(data.labels[index])
                let (path, bytes, changed) = try outcome.get()
                if changed { written += 1 } else { unchanged += 1 }
                paths.append(path)
                batch.append(OutputEntry(
                    input: imagesRecord,
                    output: FileRecords.record(bytes: bytes, path: path, width: data.width, height: data.height, format: "png"),
                    linf: 0, l2: 0, psnr: .infinity, ssim: 1,
                    details: try JSON.string(ImportDetails(split: split.rawValue, index: index, label: label,
                                                           className: FashionMNIST.classNames[label]))))
                if batch.count == 5000 {
                    try store.recordOutputs(runID: run.id, batch)
                    batch.removeAll(keepingCapacity: true)
                }
                progress.advance()
            }
        }
        try store.recordOutputs(runID: run.id, batch)
        progress.finish()
        return (indices.count, written, unchanged, paths)
    }

    /// Removes the images an earlier import into `output` wrote and this one did not (an earlier import with a
    /// higher `--limit-per-class`), so the folder holds what was asked for. Only files named as an import names
    /// them (`<split>/<class>/<5-digit index>.png`) are removed; the folder is known to be an import's (see
    /// ``run(store:arguments:)``). Returns how many were removed.
    static func removeImagesBeyondTheLimit(in output: String, keeping kept: Set<String>) -> Int {
        var removed = 0
        for split in FashionMNIST.Split.allCases {
            for className in FashionMNIST.classNames {
                let folder = "\(output)/\(split.rawValue)/\(className)"
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                where name.count == 9 && name.hasSuffix(".png") && name.prefix(5).allSatisfy({ $0.isASCII && $0.isNumber })
                    && !kept.contains(folder + "/" + name) {
                    if (try? FileManager.default.removeItem(atPath: folder + "/" + name)) != nil { removed += 1 }
                }
            }
        }
        return removed
    }

    struct ImportDetails: Codable {
        var split: String
        var index: Int
        var label: Int
        var className: String
    }

    static func readMarker(in output: String) -> Marker? {
        guard let data = FileManager.default.contents(atPath: "\(output)/\(markerName)") else { return nil }
        return try? JSONDecoder().decode(Marker.self, from: data)
    }

    /// Image `index` of `data` as a PNG at `<output>/<split>/<class>/<index>.png`, checked to decode to the same
    /// pixels, written unless the file already holds these bytes. Returns the path, the bytes and whether it wrote.
    static func export(_ data: FashionMNIST.Images, index: Int, split: FashionMNIST.Split, to output: String) throws
        -> (path: String, bytes: [UInt8], written: Bool) {
        let className = FashionMNIST.classNames[Int(data.labels[index])]
        let path = "\(output)/\(split.rawValue)/\(className)/\(String(format: "%05d", index)).png"
        let image = RGBImage(width: data.width, height: data.height, gray: Array(data.image(index)))
        let bytes = try ImageCodec.encode(image, as: .png)
        // Check the export is lossless before trusting it.
        let linf = ImageMetrics.linf(image, try ImageCodec.decode(bytes: bytes, path: path).image)
        guard linf == 0 else { throw ImportError.lossyExport(path: path, linf: linf) }
        if FileManager.default.contents(atPath: path).map({ [UInt8]($0) == bytes }) == true { return (path, bytes, false) }
        try writeFileAtomically(bytes, to: path, createParentDirectories: false, durable: false)
        return (path, bytes, true)
    }

    /// Number of PNG files under `<output>/<split>` for each split present.
    static func pngCounts(in output: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for split in FashionMNIST.Split.allCases {
            let root = "\(output)/\(split.rawValue)"
            guard FileManager.default.fileExists(atPath: root) else { continue }
            counts[split.rawValue] = FileWalker(extensions: ["png"]).walk([root]).files.count
        }
        return counts
    }
}

/// Failures specific to importing data sets.
public enum ImportError: Error, LocalizedError, Equatable {
    case lossyExport(path: String, linf: Int)
    case unknownDataset(name: String)
    /// The output's split folders hold files no import made (`example` is one of them).
    case foreignFiles(path: String, example: String)

    public var errorDescription: String? {
        switch self {
        case .lossyExport(let path, let linf):
            return "\(path): the PNG written does not decode to the source pixels (L-inf \(linf)); nothing was kept"
        case .foreignFiles(let path, let example):
            return "\(path): its train/test folders hold files no import made (\(example), ...), and the images would "
                + "replace same-named ones; choose a new or empty folder"
        case .unknownDataset(let name):
            return "unknown data set '\(name)'; known: fashion-mnist"
        }
    }
}
