import CloakData
import CloakImage
import CloakNN
import CloakStore
import CloakTensor
import Foundation

/// Settings of `cloak verify`.
public struct VerifySettings: Codable, Sendable {
    public var model: UnlearnableSettings.Model = .small
    public var epochs: Int = 10
    public var seed: UInt64 = 0
    public var batchSize: Int = 128
    /// SGD with cosine annealing over the epochs, as the reference's evaluation (lr 0.1, momentum 0.9,
    /// weight decay 5e-4, gradient-norm clip 5).
    public var learningRate: Double = 0.1
    public var momentum: Double = 0.9
    public var weightDecay: Double = 5e-4
    public var gradientClip: Double = 5
    public var countermeasures: [Countermeasure] = [.none]
    /// Use only the first N training images of each class (test set: all).
    public var limitPerClass: Int?
    /// Adversarial training: PGD steps, budget and step in 0-255 levels.
    public var adversarialSteps: Int = 10
    public var adversarialEpsilon: Double = 8
    public var adversarialStepSize: Double = 2
    /// Clean-test checks per epoch: 1 measures after each epoch; N > 1 also measures N - 1 times within
    /// it, at evenly spaced batches, to catch the best weights a trainer who checks more often could keep.
    public var checksPerEpoch: Int = 1
    /// Partial protection: this fraction (0 ..< 1) of the protected training images, chosen at random
    /// (seeded), is replaced by their clean originals from the baseline before training (``CleanMix``).
    public var cleanFraction: Double = 0

    public init() {}
}

/// `cloak verify`: trains fresh models on (possibly protected) training data and measures what they learn
/// on clean test data, beside the same training on a clean baseline, under each countermeasure.
public struct Verifier: Sendable {
    public var trainFolder: String
    public var testFolder: String
    public var baselineFolder: String?
    public var reportFolder: String?
    public var settings: VerifySettings
    public var quiet: Bool
    /// Reuse a model an earlier run trained on the same data with the same settings and tool version
    /// (found in the store; see ``TrainingIdentity``) instead of training it again; `cloak verify --retrain`
    /// turns it off.
    public var reusesTrainedModels = true
    /// Test hook: stop (as an interruption would) after this many models trained by this invocation.
    public var stopAfterTrainings: Int?
    /// Test hook: stop (as an interruption would) after this many epochs of the first model this invocation trains.
    public var stopAfterEpochs: Int?

    /// Raised by the test hook.
    public struct Stopped: Error {}

    public init(trainFolder: String, testFolder: String, baselineFolder: String? = nil, reportFolder: String? = nil,
                settings: VerifySettings = VerifySettings(), quiet: Bool = false) {
        self.trainFolder = trainFolder
        self.testFolder = testFolder
        self.baselineFolder = baselineFolder
        self.reportFolder = reportFolder
        self.settings = settings
        self.quiet = quiet
    }

    /// What a verification produced: the result and where its report went.
    public struct Outcome: Sendable {
        public var result: VerificationResult
        public var reportFolder: String
    }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Outcome {
        let log: (String) -> Void = { if !quiet { StandardError.print($0) } }
        let train = try ImageFolder(root: FileRecords.absolute(trainFolder))
        let test = try ImageFolder(root: FileRecords.absolute(testFolder))
        let baseline = try baselineFolder.map { try ImageFolder(root: FileRecords.absolute($0)) }
        guard settings.cleanFraction == 0 || baseline != nil else { throw VerifyError.cleanFractionNeedsBaseline }
        for other in [test] + (baseline.map { [$0] } ?? []) where other.classes != train.classes {
            throw VerifyError.classMismatch(path: other.root, classes: other.classes, trainPath: train.root,
                                            trainClasses: train.classes)
        }
        // A file in the way, or another program's report files, are said now, before any training.
        if let reportFolder = reportFolder.map(FileRecords.absolute) {
            try createDirectory(reportFolder)
            try VerificationReport.checkFolder(reportFolder)
        }
        var parameters = Parameters(train: train.root, test: test.root, baseline: baseline?.root, settings: settings)
        // The same verification of the same folders resumes an interrupted run: models already trained are kept
        // (also on another number of threads; each model records its own).
        let key = "verify " + FileDigest.sha256(Array(JSON.string(parameters).utf8))
        parameters.threads = ComputeThreads.count
        let run = try RecordedRun(store: store, start: RunStart(
            command: "verify", arguments: arguments, toolVersion: CloakVersion.current,
            seed: Int64(bitPattern: settings.seed), parameters: JSON.string(parameters), resumeKey: key))
        let reportPath = FileRecords.absolute(reportFolder ?? "reports/verify-\(run.id)")
        return try run.run { run in
            // Load everything at the protected set's working size, once it is clear the job fits in memory.
            let trainIndices = train.indices(limitPerClass: settings.limitPerClass)
            let baselineIndices = baseline?.indices(limitPerClass: settings.limitPerClass)
            let chosen = WorkingSize.choose(requested: nil, folder: train, indices: trainIndices)
            if let chosen {
                try WorkingSize.check(images: trainIndices.count + test.samples.count + (baselineIndices?.count ?? 0),
                                      size: chosen.size, batch: settings.batchSize, model: settings.model, noiseCopies: 0, path: train.root)
                if let note = chosen.note { log("note: " + note) }
            }
            let protectedImages = train.load(size: chosen?.size, indices: trainIndices)
            let size = (protectedImages.width, protectedImages.height)
            let channels = protectedImages.channels
            let testImages = test.load(size: size, channels: channels)
            let baselineImages = baseline.map { $0.load(size: size, channels: channels, indices: baselineIndices) }
            // A folder given twice (say, as test set and baseline) reports each unreadable file once.
            var seenFailures = Set<String>()
            let failures = (protectedImages.failures + testImages.failures + (baselineImages?.failures ?? []))
                .filter { seenFailures.insert($0.path).inserted }
            run.recordUnreadable(failures)
            let testData = Self.labelled(testImages)
            var trainHash = Self.datasetHash(protectedImages)
            let testHash = Self.datasetHash(testImages), baselineHash = baselineImages.map(Self.datasetHash)
            var trainingImages = protectedImages
            if settings.cleanFraction > 0, let baselineImages {
                let mix = try CleanMix.mix(protectedImages, root: train.root, clean: baselineImages, cleanRoot: baseline!.root,
                                           fraction: settings.cleanFraction, seed: settings.seed)
                trainingImages = mix.images
                trainHash = FileDigest.sha256(Array((trainHash + "\n" + mix.replaced.joined(separator: "\n")).utf8))
                log("\(mix.replaced.count) of \(protectedImages.count) protected training images replaced by their clean "
                    + "originals (--clean-fraction \(settings.cleanFraction))")
            }

            // Models of an interrupted run of this verification, kept when the data is still the same.
            var kept = run.resumed ? try store.verifications(runID: run.id) : []
            let stale = kept.filter { record in
                record.testDatasetSHA256 != testHash || Self.curve(from: record) == nil
                    || record.trainDatasetSHA256 != (record.isBaseline ? baselineHash : trainHash)
            }
            try store.deleteVerifications(ids: stale.compactMap(\.id))
            kept.removeAll { record in stale.contains { $0.id == record.id } }
            var trained = 0

            /// One model's curve: kept from the interrupted run, or trained now and recorded at once.
            func curve(_ countermeasure: Countermeasure, isBaseline: Bool, images: LoadedImageFolder, dataset: String,
                       hash: String) throws -> TrainedModel {
                let label = isBaseline ? "baseline" : "protected"
                let training = TrainingIdentity(settings: settings, countermeasure: countermeasure, width: size.0, height: size.1,
                                                channels: channels, trainHash: hash, testHash: testHash)
                let identity = training.key
                /// Records the model in this run at once, with its identity.
                func record(_ curve: TrainingCurve) throws -> TrainedModel {
                    let record = try store.recordVerification(VerificationRecord(
                        id: nil, runId: run.id, trainDataset: dataset, trainDatasetSHA256: hash, testDataset: test.root,
                        testDatasetSHA256: testHash, isBaseline: isBaseline, model: settings.model.rawValue,
                        epochs: settings.epochs, countermeasure: countermeasure.rawValue,
                        accuracies: JSON.string(curve.accuracies), finalAccuracy: curve.final, bestAccuracy: curve.best,
                        details: JSON.string(VerificationDetails(curve: curve, verdict: nil, identity: identity)), createdAt: Date()))
                    return TrainedModel(curve: curve, recordID: record.id!, identity: identity)
                }
                if let record = kept.first(where: { $0.countermeasure == countermeasure.rawValue && $0.isBaseline == isBaseline }),
                   let curve = Self.curve(from: record) {
                    log("== \(countermeasure.rawValue): the \(label) model trained before the interruption is kept "
                        + String(format: "(final %.2f%%, best %.2f%%)", curve.final * 100, curve.best * 100))
                    return TrainedModel(curve: curve, recordID: record.id!, identity: identity)
                }
                if reusesTrainedModels, let curve = try Self.trainedBefore(training, store: store, excludingRun: run.id) {
                    log("== \(countermeasure.rawValue): the \(label) model was trained by run \(curve.reusedFromRun!) on the same data "
                        + String(format: "with the same settings: reused (final %.2f%%, best %.2f%%; --retrain trains it again)",
                                 curve.final * 100, curve.best * 100))
                    return try record(curve)
                }
                log("== \(countermeasure.rawValue): training on " + (isBaseline ? "the clean baseline " : "") + dataset)
                let stateFolder = VerifyTrainingState.folder(in: reportPath, countermeasure: countermeasure, isBaseline: isBaseline)
                guard let curve = try trainModel(Self.labelled(images), test: testData, countermeasure: countermeasure,
                                                 label: label, stateFolder: stateFolder, key: identity, log: log) else {
                    try run.finish(.interrupted, message: "stopped within a training (test hook)")
                    throw Stopped()
                }
                let model = try record(curve)
                try? FileManager.default.removeItem(atPath: stateFolder)
                trained += 1
                if let stop = stopAfterTrainings, trained >= stop {
                    try run.finish(.interrupted, message: "stopped after \(trained) model(s) (test hook)")
                    throw Stopped()
                }
                return model
            }

            let notRun = settings.countermeasures.filter { !$0.applies(toChannels: channels) }
            guard notRun.count < settings.countermeasures.count else {
                throw VerifyError.nothingToMeasure(path: train.root, countermeasures: notRun.map(\.rawValue))
            }
            for countermeasure in notRun { log("\(countermeasure.rawValue): not run (the data is already grey)") }
            var rows: [CountermeasureResult] = []
            for countermeasure in settings.countermeasures where !notRun.contains(countermeasure) {
                let protected = try curve(countermeasure, isBaseline: false, images: trainingImages, dataset: train.root,
                                          hash: trainHash)
                let clean = try baselineImages.map { images in
                    try curve(countermeasure, isBaseline: true, images: images, dataset: baseline!.root, hash: baselineHash!)
                }
                let row = CountermeasureResult(
                    countermeasure: countermeasure.rawValue, protected: protected.curve, baseline: clean?.curve,
                    verdict: Verdict.judge(protected: protected.curve, baseline: clean?.curve,
                                           chance: 1 / Double(train.classes.count), testImages: testImages.count))
                rows.append(row)
                for model in [protected] + (clean.map { [$0] } ?? []) {
                    try store.updateVerificationDetails(id: model.recordID, details: JSON.string(
                        VerificationDetails(curve: model.curve, verdict: row.verdict, identity: model.identity)))
                }
            }
            let result = VerificationResult(
                trainDataset: train.root, baselineDataset: baseline?.root, testDataset: test.root,
                model: settings.model.rawValue, epochs: settings.epochs, seed: settings.seed, classes: train.classes,
                trainCount: protectedImages.count, testCount: testImages.count, chance: 1 / Double(train.classes.count),
                rows: rows, runID: run.id, checksPerEpoch: settings.checksPerEpoch,
                cleanFraction: settings.cleanFraction > 0 ? settings.cleanFraction : nil,
                unreadableFiles: failures.isEmpty ? nil : failures.map(\.message),
                notRun: notRun.isEmpty ? nil : notRun.map(\.rawValue))
            try? FileManager.default.removeItem(atPath: reportPath + "/.cloak-verify")
            try writeReport(result, to: reportPath, protected: protectedImages, baselineFolder: baseline)
            try run.finish(.done)
            return Outcome(result: result, reportFolder: reportPath)
        }
    }

    /// One model of a verification: its curve, its row in the store and its ``TrainingIdentity/key``.
    struct TrainedModel {
        var curve: TrainingCurve
        var recordID: Int64
        var identity: String
    }

    static func labelled(_ images: LoadedImageFolder) -> LabelledImages {
        LabelledImages(pixels: images.pixels, labels: images.labels, height: images.height, width: images.width,
                       channels: images.channels)
    }

    /// SHA-256 of the sorted list of (relative path, content hash) of a loaded set, identifying the data.
    static func datasetHash(_ images: LoadedImageFolder) -> String {
        var lines: [String] = []
        for path in images.paths.sorted() {
            lines.append(path + "\t" + ((try? FileDigest.sha256(ofFileAt: path)) ?? "?"))
        }
        return FileDigest.sha256(Array(lines.joined(separator: "\n").utf8))
    }

    /// The `details` JSON of a verification row in the store (per-class accuracies follow from the confusion
    /// matrix, as ``TrainingCurve/perClassAccuracy``): enough to rebuild the model's ``TrainingCurve`` when an
    /// interrupted verification resumes.
    struct VerificationDetails: Codable {
        /// `nil` until the baseline model has trained too.
        var verdict: String?
        var finalConfusion: [[Int]]?
        /// Every clean-test check per epoch, with `cloak verify --checks-per-epoch` above 1.
        var checkAccuracies: [[Double]]?
        var trainingLosses: [Double]?
        var seconds: Double?
        /// ``TrainingIdentity/key`` of the model: a later verification with the same key reuses it.
        var trainingIdentity: String?
        /// The run that trained the model, when this one reused it.
        var reusedFromRun: Int64?

        init(curve: TrainingCurve, verdict: Verdict?, identity: String?) {
            self.verdict = verdict?.rawValue
            finalConfusion = curve.finalConfusion
            checkAccuracies = curve.checkAccuracies
            trainingLosses = curve.trainingLosses
            seconds = curve.seconds
            trainingIdentity = identity
            reusedFromRun = curve.reusedFromRun
        }
    }

    /// The curve recorded in a verification row; `nil` for rows that cannot rebuild one (made before the
    /// training losses were recorded).
    static func curve(from record: VerificationRecord) -> TrainingCurve? {
        guard let details = try? JSONDecoder().decode(VerificationDetails.self, from: Data(record.details.utf8)),
              let losses = details.trainingLosses, let seconds = details.seconds,
              let accuracies = try? JSONDecoder().decode([Double].self, from: Data(record.accuracies.utf8)),
              accuracies.count == losses.count else { return nil }
        return TrainingCurve(accuracies: accuracies, trainingLosses: losses, seconds: seconds,
                             finalConfusion: details.finalConfusion, checkAccuracies: details.checkAccuracies,
                             reusedFromRun: details.reusedFromRun)
    }

    struct Parameters: Codable {
        var train: String
        var test: String
        var baseline: String?
        var settings: VerifySettings
        /// ``ComputeThreads/count``: recorded, not part of the resume key.
        var threads: Int?
    }
}

/// Failures of `cloak verify`.
public enum VerifyError: Error, LocalizedError, Equatable {
    /// The test or baseline folder (`path`) does not hold the training folder's classes, in the same order.
    case classMismatch(path: String, classes: [String], trainPath: String, trainClasses: [String])
    /// `--clean-fraction` without `--baseline`: there are no clean originals to mix in.
    case cleanFractionNeedsBaseline
    /// `--clean-fraction` needs more clean originals (same relative path in the baseline) than there are.
    case tooFewCleanOriginals(baseline: String, needed: Int, found: Int)
    /// Every countermeasure asked for would change nothing on this data (`grayscale` on grey images).
    case nothingToMeasure(path: String, countermeasures: [String])
    /// The report folder holds a `report.*` file that is not a Cloak verification report.
    case foreignReportFile(path: String)

    public var errorDescription: String? {
        switch self {
        case .classMismatch(let path, let classes, let trainPath, let trainClasses):
            let missing = trainClasses.filter { !classes.contains($0) }, extra = classes.filter { !trainClasses.contains($0) }
            var why: [String] = []
            if !missing.isEmpty { why.append("no images of " + missing.joined(separator: ", ")) }
            if !extra.isEmpty { why.append("classes the training data lacks: " + extra.joined(separator: ", ")) }
            return "\(path): its classes (\(classes.joined(separator: ", "))) are not those of \(trainPath) "
                + "(\(trainClasses.joined(separator: ", ")))" + (why.isEmpty ? "" : "; " + why.joined(separator: "; "))
                + ". Classes are the sub-folders that hold images; every folder needs the same ones"
        case .cleanFractionNeedsBaseline:
            return "--clean-fraction needs --baseline: the clean originals of the protected images"
        case .nothingToMeasure(let path, let countermeasures):
            return "\(path): the images are grey, so " + countermeasures.joined(separator: ", ")
                + " would change nothing and no model was trained; ask for other countermeasures (none, jpeg10, augment, "
                + "adversarial)"
        case .foreignReportFile(let path):
            return "\(path): not a report cloak verify wrote, and the report would replace it; choose another --report folder"
        case .tooFewCleanOriginals(let baseline, let needed, let found):
            return "\(baseline): --clean-fraction needs the clean originals of \(needed) protected images (same relative "
                + "path, any extension), and only \(found) are there"
        }
    }
}
