import CloakData
import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// `cloak unlearnable <folder> --out <folder> --noise-from <earlier output>`: the class-wise noise made by an
/// earlier run, applied to more images of the same classes.
///
/// Class-wise noise protects a data set only when every image carries it (5% of the images left clean undo
/// it: `docs/measurements/unlearnable.md`), so images added to a published set later must get the same class patterns:
/// new patterns would be a second shortcut, and clean images the real features. The noise is read from
/// `noise.npy` and `noise.json` of the earlier output (classes matched by name), resized to each image's
/// own size, added and the sum clamped, exactly as when it was made; the output folder gets copies of both
/// files. A re-run rewrites nothing that is already right.
public struct NoiseApplicationJob: Sendable, RecordedJob {
    public var inputFolder: String
    public var outputFolder: String
    /// An earlier `cloak unlearnable` output holding `noise.npy` and `noise.json`.
    public var noiseFolder: String
    public var limitPerClass: Int?
    public var quiet: Bool

    public init(inputFolder: String, outputFolder: String, noiseFolder: String, limitPerClass: Int? = nil, quiet: Bool = false) {
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
        self.noiseFolder = noiseFolder
        self.limitPerClass = limitPerClass
        self.quiet = quiet
    }

    /// What the job did.
    public struct Summary: Codable, Sendable {
        public var runID: Int64
        public var noiseFolder: String
        public var epsilon: Double
        public var width: Int
        public var height: Int
        public var channels: Int
        public var images: Int
        public var written: Int
        public var failures: Int
        public var maxLinf: Int
        public var meanPSNR: Double
        public var meanSSIM: Double
        public var outputFolder: String
        public var seconds: Double
    }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        try runRecorded(store: store, arguments: arguments)
    }

    static let command = "unlearnable"

    /// The earlier noise, and the images loaded at its size with its class numbering.
    struct Input {
        var began: Double
        var root: String
        var output: String
        var source: String
        var layout: OutputWriter.NoiseLayout
        /// HWC, pattern after pattern.
        var patterns: [Float]
        var npy: [UInt8]
        var noiseFile: FileRecord
        var loaded: LoadedImageFolder
    }

    func prepare() throws -> Input {
        let began = monotonicSeconds()
        let root = FileRecords.absolute(inputFolder), output = FileRecords.absolute(outputFolder)
        let source = FileRecords.absolute(noiseFolder)
        guard source != output else { throw UnlearnableError.invalidSettings("`outputFolder` must not be the `noiseFolder`") }
        let (layout, patterns, npy) = try Self.readNoise(in: source)
        let noiseFile = FileRecords.record(bytes: npy, path: "\(source)/noise.npy", width: nil, height: nil, format: "npy")
        let folder = try ImageFolder(root: root)
        try OutputWriter.prepare(output: output, for: root)
        let patternOfClass = try folder.classes.map { name in
            guard let p = layout.classes.firstIndex(of: name) else {
                throw UnlearnableError.invalidSettings("\(root)/\(name): no noise pattern for this class in \(source)/noise.json "
                                                       + "(it has \(layout.classes.joined(separator: ", ")))")
            }
            return p
        }
        let indices = folder.indices(limitPerClass: limitPerClass)
        let loadProgress = ProgressReporter("load", total: indices.count, unit: "images", quiet: quiet)
        var loaded = folder.load(size: (layout.shape[3], layout.shape[2]), channels: layout.shape[1], indices: indices) { _ in
            loadProgress.advance()
        }
        loadProgress.finish()
        loaded.labels = loaded.labels.map { patternOfClass[$0] }   // the noise's class numbering from here on
        loaded.classes = layout.classes
        return Input(began: began, root: root, output: output, source: source, layout: layout, patterns: patterns, npy: npy,
                     noiseFile: noiseFile, loaded: loaded)
    }

    func identity(of input: Input) throws -> JobIdentity {
        let parameters = try JSON.string(Parameters(inputFolder: input.root, outputFolder: input.output,
                                                    noiseFolder: input.source, noiseSHA256: input.noiseFile.sha256,
                                                    limitPerClass: limitPerClass))
        return JobIdentity(parameters: parameters, resumeKey: "unlearnable-apply " + FileDigest.sha256(Array(parameters.utf8)))
    }

    /// The noise files first (they mark the folder as this command's should the writing be interrupted), then every image.
    func work(_ input: Input, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        run.recordUnreadable(input.loaded.failures)
        var settings = UnlearnableSettings(mode: .class)
        settings.epsilon = input.layout.epsilon
        let writer = OutputWriter(run: run, store: store, root: input.root, output: input.output, loaded: input.loaded,
                                  noise: input.patterns, settings: settings, quiet: quiet)
        try writeFileAtomically(input.npy, to: "\(input.output)/noise.npy", createParentDirectories: true)
        try writeFileAtomically(try ImageCodec.readBytes(path: "\(input.source)/noise.json"), to: "\(input.output)/noise.json")
        let written = try writer.writeAll()
        try store.recordRunInput(runID: run.id, file: input.noiseFile, role: "noise")
        let (c, h, w) = (input.layout.shape[1], input.layout.shape[2], input.layout.shape[3])
        let summary = Summary(
            runID: run.id, noiseFolder: input.source, epsilon: input.layout.epsilon, width: w, height: h, channels: c,
            images: input.loaded.count, written: written.written, failures: input.loaded.failures.count + written.failures,
            maxLinf: written.maxLinf, meanPSNR: written.meanPSNR, meanSSIM: written.meanSSIM, outputFolder: input.output,
            seconds: monotonicSeconds() - input.began)
        try writeFileAtomically(Array((try JSON.pretty(summary) + "\n").utf8), to: "\(input.output)/unlearnable.json")
        return summary
    }

    /// The layout, the patterns (HWC, pattern after pattern, as ``OutputWriter`` takes them) and the bytes of
    /// `noise.npy` in `folder`.
    static func readNoise(in folder: String) throws -> (layout: OutputWriter.NoiseLayout, patterns: [Float], npy: [UInt8]) {
        let jsonPath = "\(folder)/noise.json", npyPath = "\(folder)/noise.npy"
        struct Method: Decodable { var method: String? }
        if let json = FileManager.default.contents(atPath: jsonPath),
           let method = try? JSON.decoder.decode(Method.self, from: json).method, method != "em" {
            throw UnlearnableError.invalidSettings("\(jsonPath): made by `method` \(method), whose pixels belong to the images "
                                                   + "they were found on; run it on the whole set instead")
        }
        guard let json = FileManager.default.contents(atPath: jsonPath),
              let layout = try? JSON.decoder.decode(OutputWriter.NoiseLayout.self, from: json) else {
            throw UnlearnableError.invalidSettings("\(jsonPath): missing or unreadable; `noiseFolder` must be a folder made by "
                                                   + "cloak unlearnable")
        }
        guard layout.mode == "class" else {
            throw UnlearnableError.invalidSettings("\(jsonPath): the noise is \(layout.mode)-wise, one pattern per image it was "
                                                   + "made for; only class-wise noise applies to other images")
        }
        let bytes = try ImageCodec.readBytes(path: npyPath)
        let array = try NPYFile.decode(bytes, path: npyPath)
        guard layout.shape.count == 4, array.shape == layout.shape, layout.shape[0] == layout.classes.count,
              [1, 3].contains(layout.shape[1]) else {
            throw UnlearnableError.invalidSettings("\(npyPath): shape \(array.shape) does not match noise.json "
                                                   + "(\(layout.shape), \(layout.classes.count) classes)")
        }
        let limit = Float(layout.epsilon / 255) * 1.0001
        guard array.values.allSatisfy({ abs($0) <= limit }) else {
            throw UnlearnableError.invalidSettings("\(npyPath): values beyond epsilon \(layout.epsilon)/255")
        }
        let hwc = NoisePatterns.transposed(array.values, patterns: layout.shape[0], channels: layout.shape[1],
                                                      height: layout.shape[2], width: layout.shape[3], toNCHW: false)
        return (layout, hwc, bytes)
    }

    struct Parameters: Codable {
        var inputFolder: String
        var outputFolder: String
        var noiseFolder: String
        var noiseSHA256: String
        var limitPerClass: Int?
    }
}
