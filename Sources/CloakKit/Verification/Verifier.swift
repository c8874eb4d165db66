import CloakData
import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// `cloak verify`: trains fresh models on (possibly protected) training data and measures what they learn
/// on clean test data, beside the same training on a clean baseline, under each countermeasure.
public struct Verifier: Sendable, RecordedJob {
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
        try runRecorded(store: store, arguments: arguments)
    }

    static let command = "verify"

    /// The folders of a verification, checked before anything is loaded or recorded.
    struct Folders {
        var train: ImageFolder
        var test: ImageFolder
        var baseline: ImageFolder?
    }

    /// The folders opened and checked (the same classes; a report folder that can be written): a mistake is said now,
    /// before any training.
    func prepare() throws -> Folders {
        let train = try ImageFolder(root: FileRecords.absolute(trainFolder))
        let test = try ImageFolder(root: FileRecords.absolute(testFolder))
        let baseline = try baselineFolder.map { try ImageFolder(root: FileRecords.absolute($0)) }
        guard settings.cleanFraction == 0 || baseline != nil else { throw VerifyError.cleanFractionNeedsBaseline }
        for other in [test] + (baseline.map { [$0] } ?? []) where other.classes != train.classes {
            throw VerifyError.classMismatch(path: other.root, classes: other.classes, trainPath: train.root,
                                            trainClasses: train.classes)
        }
        if let reportFolder = reportFolder.map(FileRecords.absolute) {
            try createDirectory(reportFolder)
            try VerificationReport.checkFolder(reportFolder)
        }
        return Folders(train: train, test: test, baseline: baseline)
    }

    /// The same verification of the same folders resumes an interrupted run: models already trained are kept (also
    /// on another number of threads, which is recorded but not in the key; each model records its own).
    func identity(of folders: Folders) throws -> JobIdentity {
        var parameters = Parameters(train: folders.train.root, test: folders.test.root, baseline: folders.baseline?.root,
                                    settings: settings)
        let key = "verify " + FileDigest.sha256(Array(try JSON.string(parameters).utf8))
        parameters.threads = ComputeThreads.count
        return JobIdentity(parameters: try JSON.string(parameters), resumeKey: key, seed: settings.seed)
    }

    /// Every countermeasure's protected and baseline model (kept, reused or trained), judged; the report written.
    func work(_ folders: Folders, run: RecordedRun, store: ProvenanceStore) throws -> Outcome {
        let reportPath = FileRecords.absolute(reportFolder ?? "reports/verify-\(run.id)")
        let data = try VerificationData.load(folders, settings: settings, quiet: quiet)
        run.recordUnreadable(data.failures)
        if let replaced = data.replacedByClean {
            log("\(replaced) of \(data.protectedImages.count) protected training images replaced by their clean "
                + "originals (`cleanFraction` \(settings.cleanFraction))")
        }
        var models = try ModelTrainings(verifier: self, data: data, run: run, store: store, reportPath: reportPath)
        let notRun = settings.countermeasures.filter { !$0.applies(toChannels: data.channels) }
        guard notRun.count < settings.countermeasures.count else {
            throw VerifyError.nothingToMeasure(path: folders.train.root, countermeasures: notRun.map(\.rawValue))
        }
        for countermeasure in notRun { log("\(countermeasure.rawValue): not run (the data is already grey)") }
        let rows = try settings.countermeasures.filter { !notRun.contains($0) }.map { try models.judged($0) }
        let classes = folders.train.classes
        let result = VerificationResult(
            trainDataset: folders.train.root, baselineDataset: folders.baseline?.root, testDataset: folders.test.root,
            model: settings.model.rawValue, epochs: settings.epochs, seed: settings.seed, classes: classes,
            trainCount: data.protectedImages.count, testCount: data.testImages.count, chance: 1 / Double(classes.count),
            rows: rows, runID: run.id, checksPerEpoch: settings.checksPerEpoch,
            cleanFraction: settings.cleanFraction > 0 ? settings.cleanFraction : nil,
            unreadableFiles: data.failures.isEmpty ? nil : data.failures.map(\.message),
            notRun: notRun.isEmpty ? nil : notRun.map(\.rawValue), worstCase: WorstCase.of(rows))
        try? FileManager.default.removeItem(atPath: reportPath + "/.cloak-verify")
        try writeReport(result, to: reportPath, protected: data.protectedImages, baselineFolder: folders.baseline)
        return Outcome(result: result, reportFolder: reportPath)
    }

    func log(_ line: String) { if !quiet { StandardError.print(line) } }

    /// One model of a verification: its curve, its row in the store and its ``TrainingIdentity/key()``.
    struct TrainedModel {
        var curve: TrainingCurve
        var recordID: Int64
        var identity: String
    }
}
