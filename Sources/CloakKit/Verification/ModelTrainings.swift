import CloakData
import CloakDatasetProtection
import CloakStore
import CloakSupport
import Foundation

/// The models of one verification run: each kept from an interrupted invocation of the run (while its data is the
/// same), reused from an earlier run that trained it on the same data with the same settings, or trained now, and
/// recorded in the store at once.
struct ModelTrainings {
    let verifier: Verifier
    let data: VerificationData
    let run: RecordedRun
    let store: ProvenanceStore
    let reportPath: String
    /// Models the interrupted invocations of this run recorded, for the same data.
    private var kept: [VerificationRecord]
    /// Models trained by this invocation (for the test hook).
    private var trained = 0

    init(verifier: Verifier, data: VerificationData, run: RecordedRun, store: ProvenanceStore, reportPath: String) throws {
        self.verifier = verifier
        self.data = data
        self.run = run
        self.store = store
        self.reportPath = reportPath
        var kept = run.resumed ? try store.verifications(runID: run.id) : []
        let stale = kept.filter { record in
            record.testDatasetSHA256 != data.testHash || Verifier.curve(from: record) == nil
                || record.trainDatasetSHA256 != (record.isBaseline ? data.baselineHash : data.trainHash)
        }
        try store.deleteVerifications(ids: stale.compactMap(\.id))
        kept.removeAll { record in stale.contains { $0.id == record.id } }
        self.kept = kept
    }

    /// The protected model and (with a baseline) the clean one under `countermeasure`, and the verdict, recorded with
    /// both models.
    mutating func judged(_ countermeasure: Countermeasure) throws -> CountermeasureResult {
        let protected = try model(countermeasure, isBaseline: false, images: data.trainingImages, dataset: data.trainRoot,
                                  hash: data.trainHash)
        var clean: Verifier.TrainedModel?
        if let images = data.baselineImages, let root = data.baselineRoot, let hash = data.baselineHash {
            clean = try model(countermeasure, isBaseline: true, images: images, dataset: root, hash: hash)
        }
        let chance = 1 / Double(data.protectedImages.classes.count)
        let row = CountermeasureResult(
            countermeasure: countermeasure.rawValue, protected: protected.curve, baseline: clean?.curve,
            verdict: Verdict.judge(protected: protected.curve, baseline: clean?.curve, chance: chance,
                                   testImages: data.testImages.count))
        for model in [protected] + (clean.map { [$0] } ?? []) {
            try store.updateVerificationDetails(id: model.recordID, details: try JSON.string(
                Verifier.VerificationDetails(curve: model.curve, verdict: row.verdict, identity: model.identity)))
        }
        return row
    }

    /// One model's curve: kept from the interrupted invocation, reused, or trained now; recorded at once.
    private mutating func model(_ countermeasure: Countermeasure, isBaseline: Bool, images: LoadedImageFolder,
                                dataset: String, hash: String) throws -> Verifier.TrainedModel {
        let label = isBaseline ? "baseline" : "protected", name = countermeasure.rawValue
        let training = TrainingIdentity(settings: verifier.settings, countermeasure: countermeasure, width: data.size.width,
                                        height: data.size.height, channels: data.channels, trainHash: hash,
                                        testHash: data.testHash)
        let identity = try training.key()
        if let record = kept.first(where: { $0.countermeasure == name && $0.isBaseline == isBaseline }),
           let id = record.id, let curve = Verifier.curve(from: record) {
            verifier.log("== \(name): the \(label) model trained before the interruption is kept "
                         + String(format: "(final %.2f%%, best %.2f%%)", curve.final * 100, curve.best * 100))
            return Verifier.TrainedModel(curve: curve, recordID: id, identity: identity)
        }
        if verifier.reusesTrainedModels, let curve = try Verifier.trainedBefore(training, store: store, excludingRun: run.id) {
            verifier.log("== \(name): the \(label) model was trained by run \(curve.reusedFromRun ?? 0) on the same data "
                + String(format: "with the same settings: reused (final %.2f%%, best %.2f%%; `reusesTrainedModels` off trains it again)",
                         curve.final * 100, curve.best * 100))
            return try record(curve, countermeasure: countermeasure, isBaseline: isBaseline, dataset: dataset, hash: hash,
                              identity: identity)
        }
        verifier.log("== \(name): training on " + (isBaseline ? "the clean baseline " : "") + dataset)
        let stateFolder = VerifyTrainingState.folder(in: reportPath, countermeasure: countermeasure, isBaseline: isBaseline)
        guard let curve = try verifier.trainModel(Verifier.labelled(images), test: data.testData, countermeasure: countermeasure,
                                                  label: label, stateFolder: stateFolder, key: identity,
                                                  log: { verifier.log($0) }) else {
            try run.finish(.interrupted, message: "stopped within a training (test hook)")
            throw Verifier.Stopped()
        }
        let model = try record(curve, countermeasure: countermeasure, isBaseline: isBaseline, dataset: dataset, hash: hash,
                               identity: identity)
        try? FileManager.default.removeItem(atPath: stateFolder)
        trained += 1
        if let stop = verifier.stopAfterTrainings, trained >= stop {
            try run.finish(.interrupted, message: "stopped after \(trained) model(s) (test hook)")
            throw Verifier.Stopped()
        }
        return model
    }

    /// Records a model in this run at once, with its identity.
    private func record(_ curve: TrainingCurve, countermeasure: Countermeasure, isBaseline: Bool, dataset: String,
                        hash: String, identity: String) throws -> Verifier.TrainedModel {
        let settings = verifier.settings
        let record = try store.recordVerification(VerificationRecord(
            id: nil, runID: run.id, trainDataset: dataset, trainDatasetSHA256: hash, testDataset: data.testRoot,
            testDatasetSHA256: data.testHash, isBaseline: isBaseline, model: settings.model.rawValue,
            epochs: settings.epochs, countermeasure: countermeasure.rawValue,
            accuracies: try JSON.string(curve.accuracies), finalAccuracy: curve.final, bestAccuracy: curve.best,
            details: try JSON.string(Verifier.VerificationDetails(curve: curve, verdict: nil, identity: identity)),
            createdAt: Date()))
        guard let id = record.id else { throw StoreError.notFound(what: "the id of the verification row just written") }
        return Verifier.TrainedModel(curve: curve, recordID: id, identity: identity)
    }
}
