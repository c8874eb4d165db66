import CloakData
import CloakImage
import CloakNN
import CloakStore
import CloakTensor
import Foundation

/// `cloak unlearnable`: makes an ImageFolder data set unlearnable with error-minimising noise and writes
/// the cloaked copy, recorded as one resumable run.
///
/// Outputs in `outputFolder`:
/// - `<class>/<name>.png`: every input image plus its noise, at the image's own size, lossless PNG. The
///   noise (made at the working size) is resized bilinearly to each image's size, added, the sum clamped
///   to [0, 1], rounded to 8 bits and then held within ±floor(ε) levels of the input, so every output
///   satisfies L-inf <= ε exactly.
/// - `noise.npy`: float32, values in [−ε/255, ε/255] ([0, 1] pixel units), shape `[classes, C, H, W]`
///   (class-wise, classes in `noise.json` order) or `[N, C, H, W]` (sample-wise, images in `noise.json`
///   order), C/H/W the working size: `numpy.load("noise.npy")`, `torch.from_numpy(...)`.
/// - `noise.json` (layout, classes, files), `unlearnable.json` (rounds, errors, timings, settings).
/// - `.cloak-unlearnable/`: the resumable state (see ``UnlearnableState``).
public struct UnlearnableJob: Sendable {
    public var trainFolder: String
    public var outputFolder: String
    public var settings: UnlearnableSettings
    /// Use only the first N images of each class (in folder order).
    public var limitPerClass: Int?
    public var quiet: Bool
    /// Test hook: stop (as an interruption would) after this many rounds of this invocation.
    public var stopAfterRounds: Int?
    /// Test hook: stop after this many chunks of the targeted poison (``TargetedAdversarialPoison/chunk`` images each).
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
        /// True when the output already held this exact job's result and nothing was done.
        public var alreadyDone: Bool?
    }

    /// Raised by the test hook.
    public struct Stopped: Error {}

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        let began = monotonicSeconds()
        try settings.validate()
        let root = FileRecords.absolute(trainFolder)
        let output = FileRecords.absolute(outputFolder)
        let folder = try ImageFolder(root: root)
        try OutputWriter.prepare(output: output, for: root)
        let indices = folder.indices(limitPerClass: limitPerClass)
        let log: (String) -> Void = { if !quiet { StandardError.print($0) } }

        // Load at the working size, once it is clear the job fits in memory.
        let requested = settings.width.flatMap { w in settings.height.map { (w, $0) } }
        let chosen = WorkingSize.choose(requested: requested, folder: folder, indices: indices)
        if let chosen {
            try WorkingSize.check(images: indices.count, size: chosen.size, batch: settings.batchSize, model: settings.model,
                                  noiseCopies: (settings.mode == .sample ? 2 : 0) + (settings.targetedPoison == true ? 2 : 0),
                                  path: root)
            if let note = chosen.note { log("note: " + note) }
        }
        let loadProgress = ProgressReporter("load", total: indices.count, unit: "images", quiet: quiet)
        let loaded = folder.load(size: chosen?.size, indices: indices) { _ in loadProgress.advance() }
        loadProgress.finish()
        guard loaded.count >= 2, Set(loaded.labels).count >= 2 else {
            throw UnlearnableError.tooFewImages(path: root, count: loaded.count)
        }
        if requested == nil && chosen?.note == nil {
            let sizes = Set(loaded.originalSizes.map { "\($0.width)x\($0.height)" })
            if sizes.count > 1 {
                log("note: the images come in \(sizes.count) sizes; working at \(loaded.width)x\(loaded.height), the first "
                    + "image's (--size chooses); each output is written at its own size")
            }
        }
        let decoy = try settings.decoyClass.map { name in
            guard let k = folder.classes.firstIndex(of: name) else {
                throw UnlearnableError.invalidSettings(
                    "\(root): --decoy-class \(name) is not one of its classes (\(folder.classes.joined(separator: ", ")))")
            }
            return k
        }
        let data = LabelledImages(pixels: loaded.pixels, labels: loaded.labels, height: loaded.height,
                                  width: loaded.width, channels: loaded.channels)
        let classCount = folder.classes.count

        var resolved = settings
        resolved.width = loaded.width
        resolved.height = loaded.height
        var keySettings = resolved
        keySettings.maxRounds = 0   // a new round limit or stop error continues the same job
        keySettings.stopError = 0
        let parameters = JobParameters(trainFolder: root, outputFolder: output, limitPerClass: limitPerClass,
                                       settings: resolved, channels: loaded.channels, classes: folder.classes,
                                       images: loaded.count, threads: ComputeThreads.count)
        var keyParameters = parameters
        keyParameters.settings = keySettings
        keyParameters.threads = nil   // recorded, but a run resumed on another number of threads is the same job
        let jobKey = FileDigest.sha256(Array(JSON.string(keyParameters).utf8))
        if let state = try UnlearnableState.load(from: output), state.finished, state.jobKey == jobKey,
           let data = FileManager.default.contents(atPath: "\(output)/unlearnable.json"),
           var previous = try? JSONDecoder().decode(Summary.self, from: data), previous.written == loaded.count {
            previous.alreadyDone = true
            return previous
        }
        let run = try RecordedRun(store: store, start: RunStart(
            command: "unlearnable", arguments: arguments, toolVersion: CloakVersion.current,
            seed: Int64(bitPattern: settings.seed), parameters: JSON.string(parameters), resumeKey: "unlearnable " + jobKey))

        return try run.run { run in
            run.recordUnreadable(loaded.failures)
            // Surrogate, optimiser and noise: fresh, or restored from the last completed round.
            let model = SurrogateModels.make(settings.model, inputChannels: loaded.channels, classCount: classCount,
                                             seed: settings.seed)
            let optimizer = SGD(learningRate: Float(settings.learningRate), momentum: Float(settings.momentum),
                                weightDecay: Float(settings.weightDecay))
            var state = try UnlearnableState.load(from: output)
            if let s = state, s.jobKey != jobKey {
                throw UnlearnableError.stateMismatch(path: UnlearnableState.folder(in: output),
                                                     reason: "it belongs to a job with other data or settings")
            }
            let noise = try state.map { try $0.restore(into: model, optimizer: optimizer, output: output) }
            let generationIndices = settings.mode == .class
                ? ErrorMinimizingNoise.subset(count: data.count, fraction: settings.subset, seed: settings.seed)
                : Array(0..<data.count)
            let generator = ErrorMinimizingNoise(
                settings: resolved, data: data, classCount: classCount, model: model, optimizer: optimizer,
                generationIndices: generationIndices, noise: noise, round: state?.round ?? 0,
                freshSurrogate: { restart in
                    SurrogateModels.make(settings.model, inputChannels: loaded.channels, classCount: classCount,
                                         seed: settings.seed &+ UInt64(restart))
                }, decoy: decoy)
            var history = state?.history ?? []
            if let s = state { log("resuming at round \(s.round) (surrogate error \(String(format: "%.4f", history.last?.error ?? 1)))") }
            let tiles = (settings.noiseTile.map { ", one \($0)x\($0) tile per pattern" } ?? "")
                + (settings.restartEvery.map { ", surrogate restarted every \($0) rounds up to round \(settings.maxRounds)" } ?? "")
                + (settings.decoyClass.map { ", no pattern for \($0) (the decoy)" } ?? "")
            log("\(settings.mode.rawValue)-wise noise\(tiles), eps \(settings.epsilon)/255, \(generationIndices.count) of \(data.count) images "
                + "\(data.width)x\(data.height)x\(data.channels), surrogate \(settings.model.rawValue), stop error \(settings.stopError)")

            // The min-min rounds.
            let generationStart = monotonicSeconds()
            var roundsThisInvocation = 0
            while !(state?.finished ?? false) && !(history.last.map { $0.error < settings.stopError } ?? false) {
                if generator.round >= settings.maxRounds {
                    if settings.restartEvery != nil { break }   // the planned end of a run with restarts
                    let last = history.last?.error ?? 1
                    throw UnlearnableError.stopErrorNotReached(rounds: generator.round, error: last, stopError: settings.stopError)
                }
                let summary = generator.runRound()
                history.append(summary)
                let reached = summary.error < settings.stopError
                let planned = settings.restartEvery != nil && generator.round >= settings.maxRounds
                state = try UnlearnableState.save(generator, history: history, jobKey: jobKey, finished: reached || planned,
                                                  output: output)
                let rate = Double(generationIndices.count) / max(summary.seconds, 1e-9)
                let left = settings.maxRounds - generator.round
                let eta = "~\(ProgressReporter.duration(Double(left) * summary.seconds))"
                let ending = reached ? "; stop error reached"
                    : planned ? "; last round (surrogate restarts)"
                    : settings.restartEvery != nil ? "; ETA: round \(settings.maxRounds), \(left) more, \(eta)"
                    : "; ETA: error < \(settings.stopError), or at most \(left) more round(s), \(eta)"
                log(String(format: "round %d: surrogate error %.4f (train loss %.3f), noise %.0f%% of eps (images show %.0f%%), %.0f images/s, %@",
                           summary.round, summary.error, summary.trainingLoss, summary.budgetUse * 100,
                           (summary.visibleChange ?? 0) * 100, rate,
                           ProgressReporter.duration(summary.seconds)) + ending)
                roundsThisInvocation += 1
                if let stop = stopAfterRounds, roundsThisInvocation >= stop, !reached {
                    try run.finish(.interrupted, message: "stopped after round \(generator.round) (test hook)")
                    throw Stopped()
                }
            }

            // The targeted poison, summed with the error-minimising noise.
            var noiseValues = generator.evenedNoise()
            if settings.targetedPoison == true {
                let poisoner = TargetedAdversarialPoison(epsilon: settings.epsilonUnit, seed: settings.seed, classCount: classCount)
                log("targeted poison: every image pushed toward the next class (crafting model trained "
                    + "\(TargetedAdversarialPoison.craftingEpochs) epochs on the clean images, \(TargetedAdversarialPoison.steps) PGD steps)")
                let poison: [Float]
                do {
                    poison = try poisoner.run(on: data, folder: UnlearnableState.folder(in: output), jobKey: jobKey,
                                              quiet: quiet, stopAfterChunks: stopAfterPoisonChunks)
                } catch let stopped as Stopped {
                    try run.finish(.interrupted, message: "stopped in the targeted poison (test hook)")
                    throw stopped
                }
                noiseValues = TargetedAdversarialPoison.sum(
                    errorMinimizing: noiseValues, patternOf: { settings.mode == .class ? data.labels[$0] : $0 }, poison: poison,
                    imageSize: data.imageSize, epsilon: settings.epsilonUnit)
            }

            let generationSeconds = monotonicSeconds() - generationStart

            // Outputs.
            let writer = OutputWriter(run: run, store: store, root: root, output: output, loaded: loaded,
                                      noise: noiseValues, settings: resolved, quiet: quiet)
            let written = try writer.writeAll()
            try writer.writeNoise(classes: folder.classes)
            let surrogatePath = state!.surrogatePath(output: output)
            try store.recordModel(runID: run.id, model: ModelRecord(
                name: "surrogate-\(settings.model.rawValue)", sha256: try FileDigest.sha256(ofFileAt: surrogatePath),
                byteCount: nil, path: surrogatePath), role: "surrogate")
            let summary = Summary(
                runID: run.id, rounds: generator.round, finalError: history.last?.error ?? 1, history: history,
                seconds: monotonicSeconds() - began, generationSeconds: generationSeconds, images: loaded.count,
                written: written.written, failures: loaded.failures.count + written.failures, maxLinf: written.maxLinf,
                meanPSNR: written.meanPSNR, meanSSIM: written.meanSSIM, outputFolder: output, resumed: run.resumed,
                settings: resolved, width: loaded.width, height: loaded.height, channels: loaded.channels)
            if settings.targetedPoison == true {
                let folder = UnlearnableState.folder(in: output)
                try store.recordModel(runID: run.id, model: ModelRecord(
                    name: "targeted-poison-small", sha256: try FileDigest.sha256(ofFileAt: "\(folder)/tap-model.ckpt"),
                    byteCount: nil, path: "\(folder)/tap-model.ckpt"), role: "crafting")
            }
            try writeFileAtomically(Array((try JSON.pretty(summary) + "\n").utf8), to: "\(output)/unlearnable.json")
            // The poison's noise is in noise.npy now; its copy in the state (as large as the images) is not needed.
            try? FileManager.default.removeItem(atPath: UnlearnableState.folder(in: output) + "/tap-noise.npy")
            try run.finish(.done)
            return summary
        }
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
