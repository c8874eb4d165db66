import CloakData
import CloakFace
import CloakImage
import CloakStore
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
public struct FaceJob {
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
        let started = Date()
        try settings.validate()
        let models = try FaceModels(directory: settings.modelsDirectory, upsample: settings.upsample)
        let outputRoot = settings.outputFolder.map { absolutePath($0) }
        if let outputRoot { try createDirectory(outputRoot) }   // before any work: a file in the way is reported now

        // The photos, each with the root it was found under (for the mirrored output tree).
        var work: [(path: String, relative: String)] = []
        var problems: [WalkProblem] = []
        var skipped: [PhotoResult] = []
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
        if work.isEmpty && problems.isEmpty && skipped.isEmpty { throw FaceJobError.nothingToCloak(paths: paths) }

        let (objective, targetFiles) = try targetObjective(models: models)
        var targetDescriptor: [Float]?
        if case .targeted(let t) = objective { targetDescriptor = t }
        let key = FileDigest.sha256(Array(JSON.string(SettingsKey(
            cloak: settings.cloakSettings, target: targetDescriptor, format: settings.format,
            jpegQuality: settings.jpegQuality, keepMetadata: settings.keepMetadata,
            models: models.records.map(\.model.sha256), upsample: settings.upsample)).utf8))
        let absolutePaths = paths.map { absolutePath($0) }
        let parameters = JSON.string(Parameters(paths: absolutePaths, settings: settings, cloak: settings.cloakSettings,
                                                settingsKey: key))
        let resumeKey = "faces:" + FileDigest.sha256(Array(JSON.string([absolutePaths, [key, outputRoot ?? "beside"]]).utf8))
        let run = try RecordedRun(store: store, start: RunStart(
            command: "faces", arguments: arguments, toolVersion: CloakVersion.current,
            seed: Int64(bitPattern: settings.seed), parameters: parameters, resumeKey: resumeKey))
        return try run.run { run in
            try models.record(in: store, runID: run.id)
            for file in targetFiles { try store.recordRunInput(runID: run.id, file: file, role: "target") }
            var results: [PhotoResult] = []
            func fail(_ path: String, _ reason: String, seconds: Double = 0, size: (Int, Int)? = nil) {
                let message = reason.hasPrefix(path) ? reason : "\(path): \(reason)"
                run.recordFailure(path: absolutePath(path), reason: message)
                results.append(PhotoResult(input: absolutePath(path), outcome: .failed, message: message,
                                           width: size?.0, height: size?.1, faces: [], seconds: seconds))
                StandardError.print("error: \(message)")   // also under --quiet: only progress is silenced
            }
            for problem in problems { fail(problem.path, problem.reason) }
            for s in skipped where !quiet { StandardError.print("skipped \(s.input): \(s.message ?? "")") }

            let cloaker = FaceCloaker(embedder: models.embedder, finder: models.finder, settings: settings.cloakSettings)
            var claimed: [String: String] = [:]   // output path -> input path, within this run
            var busySeconds = 0.0, busyPhotos = 0
            for (index, item) in work.enumerated() {
                let photoStart = Date()
                let label = "[\(index + 1)/\(work.count)] \(item.path)"
                do {
                    let photo = try PhotoCloak(path: item.path, relative: item.relative, settings: settings,
                                               outputRoot: settings.outputFolder, settingsKey: key)
                    if let other = claimed[photo.outputPath] {
                        throw FaceJobError.badOption("its output \(photo.outputPath) is also the output of \(other); rename one of them")
                    }
                    claimed[photo.outputPath] = item.path
                    if !settings.force, let earlier = try photo.earlierOutput(in: store) {
                        results.append(PhotoResult(input: photo.input.path, output: earlier.path, outcome: .alreadyCloaked,
                                                   message: "already cloaked with these settings (run \(earlier.runId)); --force redoes it",
                                                   width: photo.image.width, height: photo.image.height, faces: [], seconds: 0))
                        if !quiet { StandardError.print("\(label): already cloaked with these settings -> \(earlier.path)") }
                        continue
                    }
                    // A resumed run may have written this file just before it was killed, before recording it.
                    if !run.resumed, try photo.outputWouldReplaceAForeignFile(in: store) {
                        throw FaceJobError.badOption("\(photo.outputPath) is already there and no recorded run wrote it; "
                                                     + "it was left alone (choose another --out, or move that file)")
                    }
                    let faces = models.finder.faces(in: photo.image)
                    if faces.isEmpty {
                        try store.recordRunInput(runID: run.id, file: photo.input, role: "no face")
                        results.append(PhotoResult(input: photo.input.path, outcome: .noFace,
                                                   message: "no face found (faces smaller than about "
                                                       + "\(models.finder.smallestFace(longerSide: max(photo.image.width, photo.image.height))) "
                                                       + "pixels are not detected); nothing written",
                                                   width: photo.image.width, height: photo.image.height, faces: [],
                                                   seconds: Date().timeIntervalSince(photoStart)))
                        if !quiet { StandardError.print("\(label): no face found; nothing written") }
                        continue
                    }
                    let stepProgress = StepProgress(label: label, quiet: quiet)
                    let result = try photo.cloak(faces: faces, cloaker: cloaker, objective: objective,
                                                 checkRecompression: settings.checkRecompression,
                                                 progress: stepProgress.update)
                    stepProgress.clear()
                    try store.recordFaceOutput(runID: run.id, result.entry, faces: result.faceRecords)
                    results.append(result.photo)
                    busySeconds += result.photo.seconds
                    busyPhotos += 1
                    if !quiet {
                        let remaining = Double(work.count - index - 1) * busySeconds / Double(busyPhotos)
                        StandardError.print("\(label): \(FaceJobReport.photoLine(result.photo)), "
                                            + "ETA \(ProgressReporter.duration(remaining))")
                    }
                } catch {
                    fail(item.path, error.localizedDescription, seconds: Date().timeIntervalSince(photoStart))
                }
            }
            // Half-written outputs of an earlier run killed while writing (hidden `.<name>.cloak-tmp-*` files) go.
            for folder in Set(claimed.keys.map { ($0 as NSString).deletingLastPathComponent }) {
                removeAbandonedTemporaryFiles(in: folder, recursive: false)
            }
            let all = (skipped + results).sorted { $0.input < $1.input }
            let failed = all.filter { $0.outcome == .failed }.count
            try run.finish(.done, message: failed > 0 ? "\(failed) photo(s) failed" : nil)
            return Summary(runID: run.id, resumed: run.resumed, mode: settings.mode, targeted: targetDescriptor != nil,
                           photos: all, seconds: Date().timeIntervalSince(started))
        }
    }

    /// Untargeted, or the mean descriptor of the best face of each photo in the target folder.
    private func targetObjective(models: FaceModels) throws -> (CloakObjective, [FileRecord]) {
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
