import CloakData
import CloakFace
import CloakStore
import CloakSupport
import Foundation

/// The photos of one `cloak faces` run, one after another: each cloaked and recorded, or reported with why not.
struct PhotoBatch {
    let job: FaceJob
    let input: FaceJob.Input
    let run: RecordedRun
    let store: ProvenanceStore
    let cloaker: FaceCloaker
    /// What happened to each photo so far.
    private(set) var results: [FaceJob.PhotoResult] = []
    /// Output path -> input path, within this run (two inputs must not share an output).
    private(set) var claimed: [String: String] = [:]
    private var busySeconds = 0.0, busyPhotos = 0

    init(job: FaceJob, input: FaceJob.Input, run: RecordedRun, store: ProvenanceStore) {
        self.job = job
        self.input = input
        self.run = run
        self.store = store
        cloaker = FaceCloaker(embedder: input.models.embedder, finder: input.models.finder,
                              settings: job.settings.cloakSettings)
    }

    private var quiet: Bool { job.quiet }

    /// Records `path` as failed with `reason` and says so (also when quiet: only progress is silenced).
    mutating func fail(_ path: String, _ reason: String, seconds: Double = 0, size: (Int, Int)? = nil) {
        let message = reason.hasPrefix(path) ? reason : "\(path): \(reason)"
        run.recordFailure(path: absolutePath(path), reason: message)
        results.append(FaceJob.PhotoResult(input: absolutePath(path), outcome: .failed, message: message,
                                           width: size?.0, height: size?.1, faces: [], seconds: seconds))
        StandardError.print("error: \(message)")
    }

    /// Photo `index` of the input's work list: cloaked, or already cloaked, or without a face, or failed.
    mutating func cloakPhoto(_ index: Int) {
        let item = input.work[index], started = Date()
        let label = "[\(index + 1)/\(input.work.count)] \(item.path)"
        do {
            let photo = try PhotoCloak(path: item.path, relative: item.relative, settings: job.settings,
                                       outputRoot: job.settings.outputFolder, settingsKey: input.settingsKey)
            if let other = claimed[photo.outputPath] {
                throw FaceJobError.badOption("its output \(photo.outputPath) is also the output of \(other); rename one of them")
            }
            claimed[photo.outputPath] = item.path
            if try skipAlreadyCloaked(photo, label: label) { return }
            // A resumed run may have written this file just before it was killed, before recording it.
            if !run.resumed, try photo.outputWouldReplaceAForeignFile(in: store) {
                throw FaceJobError.badOption("\(photo.outputPath) is already there and no recorded run wrote it; "
                                             + "it was left alone (choose another `outputFolder`, or move that file)")
            }
            let faces = input.models.finder.faces(in: photo.image)
            if faces.isEmpty { return try noFace(photo, label: label, started: started) }
            let stepProgress = StepProgress(label: label, quiet: quiet)
            let result = try photo.cloak(faces: faces, cloaker: cloaker, objective: input.objective,
                                         checkRecompression: job.settings.checkRecompression, progress: stepProgress.update)
            stepProgress.clear()
            try store.recordFaceOutput(runID: run.id, result.entry, faces: result.faceRecords)
            results.append(result.photo)
            busySeconds += result.photo.seconds
            busyPhotos += 1
            if !quiet {
                let remaining = Double(input.work.count - index - 1) * busySeconds / Double(busyPhotos)
                StandardError.print("\(label): \(FaceJobReport.photoLine(result.photo)), ETA \(ProgressReporter.duration(remaining))")
            }
        } catch {
            fail(item.path, error.localizedDescription, seconds: Date().timeIntervalSince(started))
        }
    }

    /// True (and recorded) when the store shows this content already cloaked with these settings into the same output,
    /// still there unchanged, and the job is not forced.
    private mutating func skipAlreadyCloaked(_ photo: PhotoCloak, label: String) throws -> Bool {
        guard !job.settings.force, let earlier = try photo.earlierOutput(in: store) else { return false }
        results.append(FaceJob.PhotoResult(
            input: photo.input.path, output: earlier.path, outcome: .alreadyCloaked,
            message: "already cloaked with these settings (run \(earlier.runID)); `force` redoes it",
            width: photo.image.width, height: photo.image.height, faces: [], seconds: 0))
        if !quiet { StandardError.print("\(label): already cloaked with these settings -> \(earlier.path)") }
        return true
    }

    /// A photo without a face: recorded as read, reported, nothing written.
    private mutating func noFace(_ photo: PhotoCloak, label: String, started: Date) throws {
        try store.recordRunInput(runID: run.id, file: photo.input, role: "no face")
        let smallest = input.models.finder.smallestFace(longerSide: max(photo.image.width, photo.image.height))
        results.append(FaceJob.PhotoResult(
            input: photo.input.path, outcome: .noFace,
            message: "no face found (faces smaller than about \(smallest) pixels are not detected); nothing written",
            width: photo.image.width, height: photo.image.height, faces: [], seconds: Date().timeIntervalSince(started)))
        if !quiet { StandardError.print("\(label): no face found; nothing written") }
    }
}
