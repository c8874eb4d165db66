import CloakData
import CloakImage
import CloakNN
import CloakStore
import Foundation

/// `cloak unlearnable <folder> --out <folder> --noise-from <earlier output>`: the class-wise noise made by an
/// earlier run, applied to more images of the same classes.
///
/// Class-wise noise protects a data set only when every image carries it (5% of the images left clean undo
/// it, measured in the README), so images added to a published set later must get the same class patterns:
/// new patterns would be a second shortcut, and clean images the real features. The noise is read from
/// `noise.npy` and `noise.json` of the earlier output (classes matched by name), resized to each image's
/// own size, added and the sum clamped, exactly as when it was made; the output folder gets copies of both
/// files. A re-run rewrites nothing that is already right.
///
/// Several earlier outputs (made for the same classes with the same epsilon): their noises are summed and the
/// sum clipped to [−ε, ε] per value, so noises made to hold different stages of a model's training (one surrogate
/// trained throughout, one restarted every few rounds) are carried at once; `noise.npy` then holds the sum.
public struct NoiseApplicationJob: Sendable {
    public var inputFolder: String
    public var outputFolder: String
    /// Earlier `cloak unlearnable` outputs holding `noise.npy` and `noise.json`: one, or several to sum.
    public var noiseFolders: [String]
    public var limitPerClass: Int?
    public var quiet: Bool

    public init(inputFolder: String, outputFolder: String, noiseFolders: [String], limitPerClass: Int? = nil, quiet: Bool = false) {
        precondition(!noiseFolders.isEmpty, "NoiseApplicationJob needs at least one noise folder")
        self.inputFolder = inputFolder
        self.outputFolder = outputFolder
        self.noiseFolders = noiseFolders
        self.limitPerClass = limitPerClass
        self.quiet = quiet
    }

    /// What the job did.
    public struct Summary: Codable, Sendable {
        public var runID: Int64
        public var noiseFolder: String
        /// The other noises summed with the first (`nil`: one noise).
        public var addedNoiseFolders: [String]?
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
        let began = monotonicSeconds()
        let root = FileRecords.absolute(inputFolder), output = FileRecords.absolute(outputFolder)
        let sources = noiseFolders.map { FileRecords.absolute($0) }, source = sources[0]
        guard !sources.contains(output) else { throw UnlearnableError.invalidSettings("--out must not be a --noise-from folder") }
        let (layout, patterns, npy, sourceBytes) = try Self.readNoise(in: sources)
        let noiseFiles = zip(sources, sourceBytes).map { folder, bytes in
            FileRecords.record(bytes: bytes, path: "\(folder)/noise.npy", width: nil, height: nil, format: "npy")
        }
        let folder = try ImageFolder(root: root)
        try OutputWriter.prepare(output: output, for: root)
        var patternOfClass: [Int] = []
        for name in folder.classes {
            guard let p = layout.classes.firstIndex(of: name) else {
                throw UnlearnableError.invalidSettings("\(root)/\(name): no noise pattern for this class in \(source)/noise.json "
                                                       + "(it has \(layout.classes.joined(separator: ", ")))")
            }
            patternOfClass.append(p)
        }
        let (c, h, w) = (layout.shape[1], layout.shape[2], layout.shape[3])
        let indices = folder.indices(limitPerClass: limitPerClass)
        let loadProgress = ProgressReporter("load", total: indices.count, unit: "images", quiet: quiet)
        var loaded = folder.load(size: (w, h), channels: c, indices: indices) { _ in loadProgress.advance() }
        loadProgress.finish()
        loaded.labels = loaded.labels.map { patternOfClass[$0] }   // the noise's class numbering from here on
        loaded.classes = layout.classes

        let added = sources.count > 1 ? Array(zip(sources, noiseFiles).dropFirst()) : nil
        let parameters = JSON.string(Parameters(inputFolder: root, outputFolder: output, noiseFolder: source,
                                                noiseSHA256: noiseFiles[0].sha256, limitPerClass: limitPerClass,
                                                addedNoise: added?.map { "\($0.0) \($0.1.sha256)" }))
        let run = try RecordedRun(store: store, start: RunStart(
            command: "unlearnable", arguments: arguments, toolVersion: CloakVersion.current, seed: nil,
            parameters: parameters, resumeKey: "unlearnable-apply " + FileDigest.sha256(Array(parameters.utf8))))
        return try run.run { run in
            run.recordUnreadable(loaded.failures)
            var settings = UnlearnableSettings(mode: .class)
            settings.epsilon = layout.epsilon
            let writer = OutputWriter(run: run, store: store, root: root, output: output, loaded: loaded, noise: patterns,
                                      settings: settings, quiet: quiet)
            let written = try writer.writeAll()
            try writeFileAtomically(npy, to: "\(output)/noise.npy", createParentDirectories: true)
            try writeFileAtomically(sources.count == 1 ? try ImageCodec.readBytes(path: "\(source)/noise.json")
                                        : Array((try JSON.pretty(layout) + "\n").utf8), to: "\(output)/noise.json")
            for file in noiseFiles { try store.recordRunInput(runID: run.id, file: file, role: "noise") }
            let summary = Summary(
                runID: run.id, noiseFolder: source, addedNoiseFolders: added?.map(\.0), epsilon: layout.epsilon, width: w, height: h, channels: c,
                images: loaded.count, written: written.written, failures: loaded.failures.count + written.failures,
                maxLinf: written.maxLinf, meanPSNR: written.meanPSNR, meanSSIM: written.meanSSIM, outputFolder: output,
                seconds: monotonicSeconds() - began)
            try writeFileAtomically(Array((try JSON.pretty(summary) + "\n").utf8), to: "\(output)/unlearnable.json")
            try run.finish(.done)
            return summary
        }
    }

    /// The layout, the patterns (HWC, pattern after pattern, as ``OutputWriter`` takes them) and the bytes of the
    /// `noise.npy` to write of the noise in `folders`: one folder's as it is; several folders' summed, the sum
    /// clipped to [−ε, ε], after checking that they were made for the same classes, size and epsilon. Also the
    /// bytes of each folder's `noise.npy`, for the records.
    static func readNoise(in folders: [String]) throws
        -> (layout: OutputWriter.NoiseLayout, patterns: [Float], npy: [UInt8], sourceBytes: [[UInt8]]) {
        var (layout, patterns, npy) = try readNoise(in: folders[0])
        var sourceBytes = [npy]
        guard folders.count > 1 else { return (layout, patterns, npy, sourceBytes) }
        let limit = Float(layout.epsilon / 255)
        for folder in folders.dropFirst() {
            let (other, values, bytes) = try readNoise(in: folder)
            sourceBytes.append(bytes)
            guard other.classes == layout.classes, other.shape == layout.shape, other.epsilon == layout.epsilon else {
                throw UnlearnableError.invalidSettings(
                    "\(folder)/noise.json: made for classes \(other.classes.joined(separator: ", ")), shape \(other.shape), epsilon "
                    + "\(other.epsilon); \(folders[0]) has \(layout.classes.joined(separator: ", ")), \(layout.shape), "
                    + "\(layout.epsilon): only noises of the same classes, size and epsilon can be summed")
            }
            for i in patterns.indices { patterns[i] = min(limit, max(-limit, patterns[i] + values[i])) }
        }
        let (c, h, w) = (layout.shape[1], layout.shape[2], layout.shape[3])
        let nchw = OutputWriter.NoiseLayout.transposed(patterns, patterns: layout.shape[0], channels: c, height: h, width: w,
                                                      toNCHW: true)
        npy = NPYFile.encode(nchw, shape: layout.shape)
        return (layout, patterns, npy, sourceBytes)
    }

    /// The layout, the patterns (HWC, pattern after pattern, as ``OutputWriter`` takes them) and the bytes of
    /// `noise.npy` in `folder`.
    static func readNoise(in folder: String) throws -> (layout: OutputWriter.NoiseLayout, patterns: [Float], npy: [UInt8]) {
        let jsonPath = "\(folder)/noise.json", npyPath = "\(folder)/noise.npy"
        guard let json = FileManager.default.contents(atPath: jsonPath),
              let layout = try? JSONDecoder().decode(OutputWriter.NoiseLayout.self, from: json) else {
            throw UnlearnableError.invalidSettings("\(jsonPath): missing or unreadable; --noise-from takes a folder made by "
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
        let hwc = OutputWriter.NoiseLayout.transposed(array.values, patterns: layout.shape[0], channels: layout.shape[1],
                                                      height: layout.shape[2], width: layout.shape[3], toNCHW: false)
        return (layout, hwc, bytes)
    }

    struct Parameters: Codable {
        var inputFolder: String
        var outputFolder: String
        var noiseFolder: String
        var noiseSHA256: String
        var limitPerClass: Int?
        /// The other noises summed with the first, "<folder> <sha256>" each (`nil`: one noise, the key as before).
        var addedNoise: [String]?
    }
}
