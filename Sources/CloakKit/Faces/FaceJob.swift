import CloakData
import CloakFace
import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// `cloak faces`: cloaks every face of every photo under the given paths against face recognition.
///
/// Per photo: decode (EXIF orientation applied), find the faces (dlib HOG detector, 5-point landmarks),
/// cloak each (``FaceCloaker``), encode in the chosen format (metadata dropped unless asked), measure what
/// was written as a tracker would (faces re-detected on the output, descriptor distance to the original's;
/// again after JPEG re-encoding at 85 and 75), write atomically, record output and faces in the store.
///
/// Outcomes per photo: `cloaked`; `no face` (reported, nothing written); `already cloaked` (the store shows
/// this content cloaked with these settings into the same output file, which is still there unchanged;
/// `--force` redoes it); `skipped` (a Cloak output: named `*.cloaked.*` or inside the output folder);
/// `failed` (unreadable, corrupt, too large, or the output cannot be written: reported with the reason,
/// recorded as a failure; the batch goes on). Originals are never modified.
///
/// The run is resumable: the same command after an interruption resumes the same run and skips the photos
/// already written.
public struct FaceJob: RecordedJob {
    public var paths: [String]
    public var settings: FaceJobSettings
    public var quiet: Bool

    public init(paths: [String], settings: FaceJobSettings = FaceJobSettings(), quiet: Bool = false) {
        self.paths = paths
        self.settings = settings
        self.quiet = quiet
    }

    /// What happened to one photo.
    public enum Outcome: String, Codable, Sendable {
        case cloaked
        case noFace = "no face"
        case alreadyCloaked = "already cloaked"
        case skipped
        case failed
    }

    /// One face of a cloaked photo, measured on the written output.
    public struct FaceResult: Codable, Sendable, Equatable {
        /// Detection box on the upright input.
        public var box: FaceBox
        /// Descriptor distance between the original and the written output (re-detected, re-aligned).
        public var shift: Double
        public var shiftAfterJPEG85: Double?
        public var shiftAfterJPEG75: Double?
        public var redetected: Bool
        public var targetDistance: Double?
        /// RGB DSSIM of the perturbed region (see ``ColourDissimilarity``).
        public var dssim: Double
        /// PSNR of the perturbed region, dB (`nil` when unchanged).
        public var psnr: Double?
        public var linf: Int
        public var seconds: Double
    }

    /// One input photo's outcome.
    public struct PhotoResult: Codable, Sendable, Equatable {
        public var input: String
        public var output: String?
        public var outcome: Outcome
        /// Why it failed or was skipped.
        public var message: String?
        public var width: Int?
        public var height: Int?
        public var faces: [FaceResult]
        /// Whole-image PSNR (dB) and SSIM of the written output against the input.
        public var psnr: Double?
        public var ssim: Double?
        public var seconds: Double
    }

    public struct Summary: Codable, Sendable {
        public var runID: Int64
        public var resumed: Bool
        public var mode: CloakMode
        public var targeted: Bool
        public var photos: [PhotoResult]
        public var seconds: Double

        public func count(_ outcome: Outcome) -> Int { photos.filter { $0.outcome == outcome }.count }
    }

    /// What decides whether an earlier output can stand for this run's (hashed into `settingsKey`).
    struct SettingsKey: Encodable {
        var cloak: CloakSettings
        var target: [Float]?
        var format: PhotoOutputFormat
        var jpegQuality: Int
        var keepMetadata: Bool
        var models: [String]
        /// Which faces are found (and so cloaked) depends on it.
        var upsample: Int
    }

    struct Parameters: Encodable {
        var paths: [String]
        var settings: FaceJobSettings
        var cloak: CloakSettings
        var settingsKey: String
    }

    struct Details: Codable {
        var settingsKey: String
        var mode: CloakMode
        var faces: Int
        var format: String
        var targeted: Bool
    }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        try runRecorded(store: store, arguments: arguments)
    }

    static let command = "faces"

    /// The models, the photos found (each with its path relative to the root it was found under, for the mirrored
    /// output tree), what was skipped or could not be walked, the objective and the settings key.
    struct Input {
        var started: Date
        var models: FaceModels
        var outputRoot: String?
        var work: [(path: String, relative: String)]
        var problems: [WalkProblem]
        var skipped: [PhotoResult]
        var objective: CloakObjective
        var targetFiles: [FileRecord]
        var targetDescriptor: [Float]?
        var settingsKey: String
    }

    func prepare() throws -> Input {
        let started = Date()
        try settings.validate()
        let models = try FaceModels(directory: settings.modelsDirectory, upsample: settings.upsample)
        let outputRoot = settings.outputFolder.map { absolutePath($0) }
        if let outputRoot { try createDirectory(outputRoot) }   // before any work: a file in the way is reported now
        let (work, problems, skipped) = photos(outputRoot: outputRoot)
        if work.isEmpty && problems.isEmpty && skipped.isEmpty { throw FaceJobError.nothingToCloak(paths: paths) }
        let (objective, targetFiles) = try targetObjective(models: models)
        var targetDescriptor: [Float]?
        if case .targeted(let t) = objective { targetDescriptor = t }
        let key = FileDigest.sha256(Array(try JSON.string(SettingsKey(
            cloak: settings.cloakSettings, target: targetDescriptor, format: settings.format,
            jpegQuality: settings.jpegQuality, keepMetadata: settings.keepMetadata,
            models: models.records.map(\.model.sha256), upsample: settings.upsample)).utf8))
        return Input(started: started, models: models, outputRoot: outputRoot, work: work, problems: problems,
                     skipped: skipped, objective: objective, targetFiles: targetFiles, targetDescriptor: targetDescriptor,
                     settingsKey: key)
    }

    func identity(of input: Input) throws -> JobIdentity {
        let absolutePaths = paths.map { absolutePath($0) }
        let parameters = try JSON.string(Parameters(paths: absolutePaths, settings: settings, cloak: settings.cloakSettings,
                                                    settingsKey: input.settingsKey))
        let resumeKey = "faces:" + FileDigest.sha256(Array(try JSON.string(
            [absolutePaths, [input.settingsKey, input.outputRoot ?? "beside"]]).utf8))
        return JobIdentity(parameters: parameters, resumeKey: resumeKey, seed: settings.seed)
    }

    /// Every photo cloaked, or reported as skipped, already cloaked, without a face, or failed; the batch goes on.
    func work(_ input: Input, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        try input.models.record(in: store, runID: run.id)
        for file in input.targetFiles { try store.recordRunInput(runID: run.id, file: file, role: "target") }
        var batch = PhotoBatch(job: self, input: input, run: run, store: store)
        for problem in input.problems { batch.fail(problem.path, problem.reason) }
        for s in input.skipped where !quiet { StandardError.print("skipped \(s.input): \(s.message ?? "")") }
        for index in input.work.indices { batch.cloakPhoto(index) }
        // Half-written outputs of an earlier run killed while writing (hidden `.<name>.cloak-tmp-*` files) go.
        for folder in Set(batch.claimed.keys.map { ($0 as NSString).deletingLastPathComponent }) {
            removeAbandonedTemporaryFiles(in: folder, recursive: false)
        }
        return Summary(runID: run.id, resumed: run.resumed, mode: settings.mode, targeted: input.targetDescriptor != nil,
                       photos: (input.skipped + batch.results).sorted { $0.input < $1.input },
                       seconds: Date().timeIntervalSince(input.started))
    }

    func finishMessage(for summary: Summary) -> String? {
        let failed = summary.count(.failed)
        return failed > 0 ? "\(failed) photo(s) failed" : nil
    }

    /// The photos under ``paths``: to cloak (with their relative paths), skipped (Cloak's own outputs), and the
    /// paths that could not be walked.
    private func photos(outputRoot: String?) -> ([(path: String, relative: String)], [WalkProblem], [PhotoResult]) {
        var work: [(path: String, relative: String)] = [], problems: [WalkProblem] = [], skipped: [PhotoResult] = []
        for root in paths {
            let walked = FileWalker().walk([root])
            problems += walked.problems
            for file in walked.files {
                let name = (file as NSString).lastPathComponent
                let relative = file == root ? name : String(file.dropFirst(root.count).drop { $0 == "/" })
                if name.lowercased().contains(".cloaked.") {
                    skipped.append(PhotoResult(input: absolutePath(file), outcome: .skipped,
                                               message: "a Cloak output (named *.cloaked.*)", faces: [], seconds: 0))
                } else if let outputRoot, absolutePath(file).hasPrefix(outputRoot + "/") {
                    skipped.append(PhotoResult(input: absolutePath(file), outcome: .skipped,
                                               message: "inside the output folder", faces: [], seconds: 0))
                } else {
                    work.append((file, relative))
                }
            }
        }
        return (work, problems, skipped)
    }

    /// Untargeted, or the mean descriptor of the best face of each photo in the target folder.
    func targetObjective(models: FaceModels) throws -> (CloakObjective, [FileRecord]) {
        guard let folder = settings.targetFolder else { return (.untargeted, []) }
        var sum = [Float](repeating: 0, count: models.embedder.descriptorLength)
        var count = 0
        var files: [FileRecord] = []
        for path in FileWalker().walk([folder]).files where !path.lowercased().contains(".cloaked.") {
            guard let bytes = try? ImageCodec.readBytes(path: path),
                  let decoded = try? ImageCodec.decode(bytes: bytes, path: path),
                  let face = models.finder.faces(in: decoded.image).first else { continue }
            for (i, v) in models.descriptor(of: face, in: decoded.image).enumerated() { sum[i] += v }
            count += 1
            files.append(FileRecords.record(bytes: bytes, path: path, width: decoded.image.width,
                                            height: decoded.image.height, format: decoded.format.rawValue))
        }
        guard count > 0 else { throw FaceJobError.noTargetFace(folder: folder) }
        return (.targeted(descriptor: sum.map { $0 / Float(count) }), files)
    }
}

/// Redraws "face f/F step s/S" for the photo being cloaked, on a terminal only, ten times a second.
final class StepProgress {
    private let label: String
    private let active: Bool
    private var last = Date.distantPast

    init(label: String, quiet: Bool) {
        self.label = label
        self.active = !quiet && StandardError.isTerminal
    }

    func update(_ p: CloakProgress) {
        guard active, Date().timeIntervalSince(last) >= 0.1 else { return }
        last = Date()
        StandardError.write("\r\u{1B}[2K\(label): face \(p.face + 1)/\(p.faceCount), step \(p.step)/\(p.stepCount)")
    }

    func clear() {
        if active { StandardError.write("\r\u{1B}[2K") }
    }
}
