import CloakData
import CloakDatasetProtection
import CloakNN
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

extension Verifier {
    static func labelled(_ images: LoadedImageFolder) -> LabelledImages {
        LabelledImages(pixels: images.pixels, labels: images.labels, height: images.height, width: images.width,
                       channels: images.channels)
    }

    /// SHA-256 of the sorted list of (relative path, content hash) of a loaded set, identifying the data.
    /// - Throws: ``FileDigestError`` when a loaded file can no longer be read (it is never hashed as a placeholder).
    static func datasetHash(_ images: LoadedImageFolder) throws -> String {
        var lines: [String] = []
        for path in images.paths.sorted() {
            lines.append(path + "\t" + (try FileDigest.sha256(ofFileAt: path)))
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
        /// ``TrainingIdentity/key()`` of the model: a later verification with the same key reuses it.
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

