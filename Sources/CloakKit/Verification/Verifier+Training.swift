import CloakData
import CloakDatasetProtection
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

extension Verifier {
    /// Trains one fresh model and returns its clean-test accuracy per epoch; `nil` when the test hook
    /// stopped it. The state is saved in `stateFolder` after every epoch, and a state saved there for the
    /// same `key` (the model's ``TrainingIdentity/key()``: an interrupted invocation's) is resumed from.
    func trainModel(_ data: LabelledImages, test: LabelledImages, countermeasure: Countermeasure, label: String,
                    stateFolder: String, key: String, log: (String) -> Void) throws -> TrainingCurve? {
        let start = monotonicSeconds()
        let prepared = try countermeasure.prepare(data)
        let classCount = max(data.classCount, test.classCount)
        let training = VerifierTraining(settings: settings, countermeasure: countermeasure, channels: data.channels,
                                        classCount: classCount)
        let model = training.model, optimizer = training.optimizer
        var generator = training.initialGenerator
        var state = VerifyTrainingState(key: key, epochs: 0, accuracies: [], trainingLosses: [], checkAccuracies: [],
                                        seconds: 0, generator: generator.state, momentum: [])
        if let saved = VerifyTrainingState.load(from: stateFolder, key: key), saved.epochs < settings.epochs {
            do {
                try saved.restore(into: model, optimizer: optimizer, folder: stateFolder)
                state = saved
                generator = SplitMix64(seed: saved.generator)
                log("  \(label): resuming after epoch \(saved.epochs)/\(settings.epochs) (saved before the interruption)")
            } catch {
                log("  \(label): the state saved before the interruption cannot be read (\(error.localizedDescription)); "
                    + "training from the start")
            }
        }
        let secondsBefore = state.seconds
        let report: (EpochSummary) -> Void = { e in
            let within = e.checkAccuracies.count > 1
                ? "; within the epoch " + e.checkAccuracies.dropLast().map { String(format: "%.1f%%", $0 * 100) }.joined(separator: " / ")
                : ""
            log(String(format: "  %@ epoch %d/%d: clean-test accuracy %.2f%% (train loss %.3f, train accuracy %.2f%%, %@%@)",
                       label, e.epoch + 1, settings.epochs, (e.evaluationAccuracy ?? 0) * 100, e.trainingLoss,
                       e.trainingAccuracy * 100, ProgressReporter.duration(e.seconds), within))
        }
        let save: (EpochSummary, SplitMix64) -> Void = { e, g in
            state.epochs = e.epoch + 1
            state.accuracies.append(e.evaluationAccuracy ?? 0)
            state.trainingLosses.append(e.trainingLoss)
            state.checkAccuracies.append(e.checkAccuracies)
            state.seconds = secondsBefore + monotonicSeconds() - start
            state.generator = g.state
            guard state.epochs < settings.epochs else { return }
            do {
                try state.save(model: model, optimizer: optimizer, folder: stateFolder)
            } catch {
                StandardError.print("warning: could not save the training state in \(stateFolder) "
                                    + "(\(error.localizedDescription)); after an interruption this model starts over")
            }
        }
        // The test hook ends the training early, as an interruption after that epoch would.
        let end = stopAfterEpochs.map { min(settings.epochs, state.epochs + $0) } ?? settings.epochs
        let epochs = state.epochs..<end
        training.fit(prepared, evaluatingOn: test, epochs: epochs, using: &generator, onEpoch: report, savingStateAfterEpoch: save)
        guard end == settings.epochs else { return nil }
        let confusion = confusionMatrix(of: model, on: test, classCount: classCount, batchSize: 256)
        return TrainingCurve(accuracies: state.accuracies, trainingLosses: state.trainingLosses,
                             seconds: secondsBefore + monotonicSeconds() - start, finalConfusion: confusion,
                             checkAccuracies: settings.checksPerEpoch > 1 ? state.checkAccuracies : nil)
    }
}
