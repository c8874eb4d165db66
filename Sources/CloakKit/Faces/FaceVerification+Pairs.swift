import CloakData
import CloakFace
import CloakImage
import CloakSupport
import Foundation

extension FaceVerification {
    /// The measured pairs, each original's subject (its largest face: descriptors on the clean photo and on the
    /// cloaked copy), and the pictures for the report.
    struct MeasuredPairs {
        var pairs: [Pair] = []
        var subjects: [TrackerTest.Subject] = []
        var thumbnails: [FaceVerificationReport.Thumbnail] = []
    }

    /// Each original and its copy decoded and recorded; the faces found on each independently, as a tracker would, and
    /// each face's descriptor shift measured. A pair that cannot be measured says why; an unreadable file is recorded
    /// as a failure and the batch goes on.
    func measurePairs(_ found: [(original: String, cloaked: String?)], models: FaceModels,
                      run: RecordedRun) throws -> MeasuredPairs {
        let progress = ProgressReporter("verify faces", total: found.count, unit: "photo pairs", quiet: quiet)
        var measured = MeasuredPairs()
        for (original, copy) in found {
            defer { progress.advance() }
            var pair = Pair(original: absolutePath(original), cloaked: copy.map { absolutePath($0) }, faces: [])
            do {
                try measure(&pair, original: original, copy: copy, models: models, run: run, into: &measured)
            } catch {
                pair.problem = error.localizedDescription
                run.recordFailure(path: absolutePath(copy ?? original), reason: error.localizedDescription)
                if !quiet { StandardError.print("error: \(error.localizedDescription)") }
            }
            measured.pairs.append(pair)
        }
        progress.finish()
        return measured
    }

    /// One pair: its faces' shifts in `pair` (or its problem), its subject and thumbnail added to `measured`.
    private func measure(_ pair: inout Pair, original: String, copy: String?, models: FaceModels, run: RecordedRun,
                         into measured: inout MeasuredPairs) throws {
        let a = try load(original, role: "original", run: run)
        let facesA = models.finder.faces(in: a)
        guard let copy else { pair.problem = "no cloaked copy found"; return }
        let b = try load(copy, role: "cloaked", run: run)
        guard a.width == b.width && a.height == b.height else {
            pair.problem = "the cloaked copy is \(b.width)x\(b.height), the original \(a.width)x\(a.height)"
            return
        }
        guard let subject = facesA.max(by: { $0.detection.box.area < $1.detection.box.area }) else {
            pair.problem = "no face found on the original"
            return
        }
        let facesB = models.finder.faces(in: b)
        /// The face of the copy that overlaps `face` most, when it overlaps by half or more.
        func counterpart(of face: DetectedFace) -> DetectedFace? {
            let best = facesB.max { $0.detection.box.iou(face.detection.box) < $1.detection.box.iou(face.detection.box) }
            return best.flatMap { $0.detection.box.iou(face.detection.box) >= 0.5 ? $0 : nil }
        }
        for face in facesA {
            let shift = counterpart(of: face).map { Self.distance(models.descriptor(of: face, in: a), models.descriptor(of: $0, in: b)) }
            pair.faces.append(PairFace(box: face.detection.box, shift: shift))
        }
        measured.subjects.append(TrackerTest.Subject(photo: absolutePath(original), clean: models.descriptor(of: subject, in: a),
                                                     cloaked: counterpart(of: subject).map { models.descriptor(of: $0, in: b) }))
        measured.thumbnails.append(FaceVerificationReport.Thumbnail(original: a, cloaked: b, box: subject.detection.box))
    }
}
