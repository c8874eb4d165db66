import CloakData
import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// `cloak unlearnable`: makes an ImageFolder data set unlearnable with error-minimising noise and writes
/// the cloaked copy, recorded as one resumable run.
///
/// Outputs in `outputFolder`, and nothing else (so `torchvision.datasets.ImageFolder` loads it with the input's classes):
/// - `<class>/<name>.png`: every input image plus its noise, at the image's own size, lossless PNG. The
///   noise (made at the working size) is resized bilinearly to each image's size, added, the sum clamped
///   to [0, 1], rounded to 8 bits and then held within ±floor(ε) levels of the input, so every output
///   satisfies L-inf <= ε exactly (``NoisePatterns/apply(_:channels:to:epsilon:)``).
/// - `noise.npy`: float32, values in [−ε/255, ε/255] ([0, 1] pixel units), shape `[classes, C, H, W]`
///   (class-wise, classes in `noise.json` order) or `[N, C, H, W]` (sample-wise, images in `noise.json`
///   order), C/H/W the working size: `numpy.load("noise.npy")`, `torch.from_numpy(...)`.
/// - `noise.json` (layout, classes, files), written with `noise.npy` before the images; `unlearnable.json`
///   (rounds, errors, timings, settings), written last.
///
/// The resumable state (surrogate checkpoints, optimiser state, the targeted poison's progress; see
/// ``UnlearnableState``) lives outside the published tree, in ``stateFolder(store:jobKey:)``, and is removed when
/// the run completes unless ``keepsState``.
public struct UnlearnableJob: Sendable, RecordedJob {
    public var trainFolder: String
    public var outputFolder: String
    public var settings: UnlearnableSettings
    /// Use only the first N images of each class (in folder order).
    public var limitPerClass: Int?
    /// Keep the resumable state (the surrogate's checkpoint among it) after the run completes.
    public var keepsState = false
    public var quiet: Bool
    /// Test hook: stop (as an interruption would) after this many rounds of this invocation.
    public var stopAfterRounds: Int?
    /// Test hook: stop after this many chunks of the targeted poison (``TargetedPoisonState/chunk`` images each).
    var stopAfterPoisonChunks: Int?

    public init(trainFolder: String, outputFolder: String, settings: UnlearnableSettings, limitPerClass: Int? = nil,
                quiet: Bool = false) {
        self.trainFolder = trainFolder
        self.outputFolder = outputFolder
        self.settings = settings
        self.limitPerClass = limitPerClass
        self.quiet = quiet
    }

    /// What the job did.
    public struct Summary: Codable, Sendable {
        public var runID: Int64
        /// Identifies the job (see ``UnlearnableJob/jobKey(of:)``): a re-run with the same key finds it done.
        public var jobKey: String
        public var rounds: Int
        public var finalError: Double
        public var history: [ErrorMinimizingNoise.RoundSummary]
        public var seconds: Double
        public var generationSeconds: Double
        public var images: Int
        public var written: Int
        public var failures: Int
        public var maxLinf: Int
        public var meanPSNR: Double
        public var meanSSIM: Double
        public var outputFolder: String
        public var resumed: Bool
        public var settings: UnlearnableSettings
        public var width: Int
        public var height: Int
        public var channels: Int
        /// The state folder, when it was kept (``UnlearnableJob/keepsState``).
        public var stateFolder: String?
        /// True when the output already held this exact job's result and nothing was done.
        public var alreadyDone: Bool?
    }

    /// Raised by the test hooks.
    public struct Stopped: Error {}

    /// Where the resumable state of the job `jobKey` lives: beside the store (``ProvenanceStore/stateDirectory``).
    public static func stateFolder(store: ProvenanceStore, jobKey: String) -> String {
        store.stateDirectory + "/unlearnable-" + jobKey.prefix(16)
    }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        try runRecorded(store: store, arguments: arguments)
    }
    static let command = "unlearnable"

    /// Checks the settings and the output folder, and loads the images at the working size.
    func prepare() throws -> UnlearnableInput {
        try settings.validate()
        var input = try UnlearnableInput.load(trainFolder: trainFolder, outputFolder: outputFolder, settings: settings,
                                              limitPerClass: limitPerClass, quiet: quiet)
        input.jobKey = try jobKey(of: input)
        return input
    }

    func identity(of input: UnlearnableInput) throws -> JobIdentity {
        JobIdentity(parameters: try JSON.string(parameters(of: input)), resumeKey: "unlearnable " + input.jobKey,
                    seed: settings.seed)
    }

    /// The summary of this very job when the output already holds it complete (`unlearnable.json` with the same key
    /// and every image written); `nil` otherwise.
    func finishedEarlier(_ input: UnlearnableInput, identity: JobIdentity) throws -> Summary? {
        guard let bytes = FileManager.default.contents(atPath: "\(input.output)/unlearnable.json"),
              var previous = try? JSON.decoder.decode(Summary.self, from: bytes),
              previous.jobKey == input.jobKey, previous.written == input.loaded.count else { return nil }
        previous.alreadyDone = true
        return previous
    }

    /// The rounds (resumed from the state of an interrupted run), the targeted poison, the outputs, the records.
    func work(_ input: UnlearnableInput, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        run.recordUnreadable(input.loaded.failures)
        if settings.method == .ops { return try oneClassPixel(input, run: run, store: store) }
        let key = input.jobKey, state = Self.stateFolder(store: store, jobKey: key)
        let generation = try NoiseGeneration(input: input, settings: input.settings, jobKey: key, stateFolder: state,
                                             quiet: quiet, stopAfterRounds: stopAfterRounds)
            .run(run: run)
        var noise = generation.noise
        if settings.targetedPoison { noise = try addTargetedPoison(to: noise, input: input, key: key, state: state, run: run) }
        let written = try writeOutputs(noise: noise, input: input, run: run, store: store)
        try recordModels(run: run, store: store, state: state, surrogate: generation.surrogatePath)
        let summary = Summary(
            runID: run.id, jobKey: key, rounds: generation.rounds, finalError: generation.history.last?.error ?? 1,
            history: generation.history, seconds: monotonicSeconds() - input.began, generationSeconds: generation.seconds,
            images: input.loaded.count, written: written.written, failures: input.loaded.failures.count + written.failures,
            maxLinf: written.maxLinf, meanPSNR: written.meanPSNR, meanSSIM: written.meanSSIM, outputFolder: input.output,
            resumed: run.resumed, settings: input.settings, width: input.data.width, height: input.data.height,
            channels: input.data.channels, stateFolder: keepsState ? state : nil)
        try writeFileAtomically(Array((try JSON.pretty(summary) + "\n").utf8), to: "\(input.output)/unlearnable.json")
        if !keepsState { try? FileManager.default.removeItem(atPath: state) }
        return summary
    }

    /// `method` ops: each class's pixel found on the images at the working size, then set in every image of the class.
    private func oneClassPixel(_ input: UnlearnableInput, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        let began = monotonicSeconds()
        let pixels = OnePixelShortcut.search(input.data, classCount: input.classCount)
        let searchSeconds = monotonicSeconds() - began
        if !quiet {
            for (name, pixel) in zip(input.folder.classes, pixels) {
                StandardError.print("one-pixel shortcut: \(name): row \(pixel.row), column \(pixel.column), colour "
                                    + pixel.colour.map { $0 == 0 ? "0" : "1" }.joined() + String(format: ", score %.2f", pixel.score))
            }
        }
        let writer = OutputWriter(run: run, store: store, root: input.root, output: input.output, loaded: input.loaded,
                                  noise: [], settings: input.settings, quiet: quiet, onePixel: pixels)
        try writer.writePixels(pixels, classes: input.folder.classes)
        let written = try writer.writeAll()
        let summary = Summary(
            runID: run.id, jobKey: input.jobKey, rounds: 0, finalError: 1, history: [], seconds: monotonicSeconds() - input.began,
            generationSeconds: searchSeconds, images: input.loaded.count, written: written.written,
            failures: input.loaded.failures.count + written.failures, maxLinf: written.maxLinf, meanPSNR: written.meanPSNR,
            meanSSIM: written.meanSSIM, outputFolder: input.output, resumed: run.resumed, settings: input.settings,
            width: input.data.width, height: input.data.height, channels: input.data.channels, stateFolder: nil)
        try writeFileAtomically(Array((try JSON.pretty(summary) + "\n").utf8), to: "\(input.output)/unlearnable.json")
        return summary
    }

    /// The targeted poison of every image, summed with the error-minimising noise: one pattern per image.
    private func addTargetedPoison(to noise: [Float], input: UnlearnableInput, key: String, state: String,
                                   run: RecordedRun) throws -> [Float] {
        let poisoner = TargetedAdversarialPoison(epsilon: settings.epsilonUnit, seed: settings.seed,
                                                 classCount: input.classCount)
        if !quiet {
            StandardError.print("targeted poison: every image pushed toward the next class (crafting model trained "
                                + "\(TargetedAdversarialPoison.craftingEpochs) epochs on the clean images, "
                                + "\(TargetedAdversarialPoison.steps) PGD steps)")
        }
        let poison: [Float]
        do {
            poison = try TargetedPoisonState(poison: poisoner, folder: state, jobKey: key, quiet: quiet)
                .run(on: input.data, stopAfterChunks: stopAfterPoisonChunks)
        } catch let stopped as Stopped {
            try run.finish(.interrupted, message: "stopped in the targeted poison (test hook)")
            throw stopped
        }
        let mode = settings.mode, labels = input.data.labels
        return TargetedAdversarialPoison.sum(errorMinimizing: noise, patternOf: { mode == .class ? labels[$0] : $0 },
                                             poison: poison, imageSize: input.data.imageSize, epsilon: settings.epsilonUnit)
    }

    /// `noise.npy` and `noise.json` first (they mark the folder as this command's), then every image.
    private func writeOutputs(noise: [Float], input: UnlearnableInput, run: RecordedRun,
                              store: ProvenanceStore) throws -> OutputWriter.Result {
        let writer = OutputWriter(run: run, store: store, root: input.root, output: input.output, loaded: input.loaded,
                                  noise: noise, settings: input.settings, quiet: quiet)
        try writer.writeNoise(classes: input.folder.classes)
        return try writer.writeAll()
    }

    /// The surrogate's and (with the targeted poison) the crafting model's content hashes; their paths only when the
    /// state is kept (it is removed otherwise).
    private func recordModels(run: RecordedRun, store: ProvenanceStore, state: String, surrogate: String) throws {
        var models = [("surrogate-\(settings.model.rawValue)", surrogate, "surrogate")]
        if settings.targetedPoison { models.append(("targeted-poison-small", "\(state)/\(TargetedPoisonState.modelName)", "crafting")) }
        for (name, path, role) in models {
            try store.recordModel(runID: run.id, model: ModelRecord(
                name: name, sha256: try FileDigest.sha256(ofFileAt: path), byteCount: nil, path: keepsState ? path : nil),
                role: role)
        }
    }

    /// What identifies the job: the input, the output, the settings (the round limit and the stop error aside, so
    /// raising either continues the same job) and the working size; not the thread count (recorded, but a run
    /// resumed on another number of threads is the same job).
    func jobKey(of input: UnlearnableInput) throws -> String {
        var key = parameters(of: input)
        key.settings.maxRounds = 0
        key.settings.stopError = 0
        key.threads = nil
        return FileDigest.sha256(Array(try JSON.string(key).utf8))
    }

    func parameters(of input: UnlearnableInput) -> JobParameters {
        JobParameters(trainFolder: input.root, outputFolder: input.output, limitPerClass: limitPerClass,
                      settings: input.settings, channels: input.data.channels, classes: input.folder.classes,
                      images: input.loaded.count, threads: ComputeThreads.count)
    }

    struct JobParameters: Codable {
        var trainFolder: String
        var outputFolder: String
        var limitPerClass: Int?
        var settings: UnlearnableSettings
        var channels: Int
        var classes: [String]
        var images: Int
        /// ``ComputeThreads/count``: the noise depends on it as training does (the order of oneDNN's sums).
        var threads: Int?
    }
}
