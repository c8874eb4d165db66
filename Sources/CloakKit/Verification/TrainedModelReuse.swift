import CloakData
import CloakDatasetProtection
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// Everything that decides the curve of a model `cloak verify` trains. Training is deterministic (seeded
/// initialisation, batch order, augmentation and adversarial starts; a test checks that a resumed training
/// repeats an uninterrupted one exactly) on a given number of compute threads (the order of oneDNN's sums
/// depends on it), so two trainings with the same identity give the same curve, and a
/// verification can reuse the model an earlier run trained instead of training it again: typically the
/// clean baseline, which stays the same while the protected data changes from one verification to the next.
struct TrainingIdentity: Codable {
    var toolVersion = CloakVersion.current
    var model: String
    var epochs: Int
    var seed: UInt64
    var batchSize: Int
    var learningRate: Double
    var momentum: Double
    var weightDecay: Double
    var gradientClip: Double
    var checksPerEpoch: Int
    /// ``ComputeThreads/count`` of the training.
    var threads = ComputeThreads.count
    var countermeasure: String
    /// Adversarial training only: PGD steps, budget and step (0-255 levels).
    var adversarial: [Double]?
    /// The working size the images were loaded at.
    var width: Int
    var height: Int
    var channels: Int
    /// ``Verifier/datasetHash(_:)`` of the training images as trained on (after `--clean-fraction`) and of the test set.
    var trainHash: String
    var testHash: String

    init(settings: VerifySettings, countermeasure: Countermeasure, width: Int, height: Int, channels: Int,
         trainHash: String, testHash: String) {
        model = settings.model.rawValue
        epochs = settings.epochs
        seed = settings.seed
        batchSize = settings.batchSize
        learningRate = settings.learningRate
        momentum = settings.momentum
        weightDecay = settings.weightDecay
        gradientClip = settings.gradientClip
        checksPerEpoch = settings.checksPerEpoch
        self.countermeasure = countermeasure.rawValue
        adversarial = countermeasure == .adversarial
            ? [Double(settings.adversarialSteps), settings.adversarialEpsilon, settings.adversarialStepSize] : nil
        self.width = width
        self.height = height
        self.channels = channels
        self.trainHash = trainHash
        self.testHash = testHash
    }

    /// SHA-256 of the identity's JSON (sorted keys): the value recorded with each model.
    func key() throws -> String { FileDigest.sha256(Array(try JSON.string(self).utf8)) }
}

extension Verifier {
    /// The curve of the newest model another run recorded with this identity, `reusedFromRun` set to the run
    /// that trained it (following earlier reuses back); `nil` when there is none.
    static func trainedBefore(_ identity: TrainingIdentity, store: ProvenanceStore,
                              excludingRun runID: Int64) throws -> TrainingCurve? {
        let key = try identity.key()
        let candidates = try store.verifications(trainDatasetSHA256: identity.trainHash, testDatasetSHA256: identity.testHash,
                                                 model: identity.model, epochs: identity.epochs,
                                                 countermeasure: identity.countermeasure)
        for record in candidates where record.runID != runID {
            guard let details = try? JSONDecoder().decode(VerificationDetails.self, from: Data(record.details.utf8)),
                  details.trainingIdentity == key, var curve = curve(from: record) else { continue }
            curve.reusedFromRun = details.reusedFromRun ?? record.runID
            return curve
        }
        return nil
    }
}
