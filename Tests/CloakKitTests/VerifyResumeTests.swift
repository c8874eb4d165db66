import CloakImage
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

@Suite("cloak verify resumes")
struct VerifyResumeTests {
    func verifier(_ train: String, test: String, baseline: String, report: String) -> Verifier {
        tinyVerifier(train, test: test, baseline: baseline, report: report, countermeasures: [.none, .jpeg10])
    }

    @Test func interruptedVerificationKeepsTheModelsItTrainedAndRunsOnlyTheRest() throws {
        let train = try makeTinyFolder(seed: 1), test = try makeTinyFolder(seed: 2), baseline = try makeTinyFolder(seed: 3)
        let parent = try temporaryFolder()
        let reference = try verifier(train, test: test, baseline: baseline, report: parent + "/reference")
            .run(store: try ProvenanceStore(), arguments: ["cloak"]).result

        // Stopped after 3 of the 4 models, then run again: one run, 4 models recorded, the same result
        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        var interrupted = verifier(train, test: test, baseline: baseline, report: parent + "/resumed")
        interrupted.stopAfterTrainings = 3
        #expect(throws: Verifier.Stopped.self) { try interrupted.run(store: store, arguments: ["cloak"]) }
        let runID = try #require(try store.recentRuns().first?.id)
        #expect(try store.recentRuns().first?.status == .interrupted)
        let before = try store.verifications(runID: runID)
        #expect(before.count == 3)

        let resumed = try verifier(train, test: test, baseline: baseline, report: parent + "/resumed")
            .run(store: store, arguments: ["cloak"]).result
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 1)
        let after = try store.verifications(runID: runID)
        #expect(after.count == 4 && Array(after.prefix(3).map(\.id)) == before.map(\.id))
        #expect(after.allSatisfy { $0.details.contains("\"verdict\"") })
        #expect(resumed.rows.map(\.verdict) == reference.rows.map(\.verdict))
        for (r, s) in zip(resumed.rows, reference.rows) {
            for (a, b) in [(r.protected, s.protected), (r.baseline!, s.baseline!)] {
                #expect(a.accuracies == b.accuracies && a.trainingLosses == b.trainingLosses)
                #expect(a.finalConfusion == b.finalConfusion)
            }
        }

        // When the protected data changed in between, its models are trained again; the baseline's are kept
        let other = try ProvenanceStore(path: parent + "/other.sqlite")
        var stopped = verifier(train, test: test, baseline: baseline, report: parent + "/changed")
        stopped.stopAfterTrainings = 3
        #expect(throws: Verifier.Stopped.self) { try stopped.run(store: other, arguments: ["cloak"]) }
        let otherRun = try #require(try other.recentRuns().first?.id)
        let kept = try other.verifications(runID: otherRun).filter(\.isBaseline)
        let image = try ImageCodec.decode(path: train + "/class0/0.png").image
        var changed = image
        changed.pixels[3 * 20] = changed.pixels[3 * 20] &+ 1
        changed.pixels[3 * 20 + 1] = changed.pixels[3 * 20]
        changed.pixels[3 * 20 + 2] = changed.pixels[3 * 20]
        try ImageCodec.write(changed, to: train + "/class0/0.png", as: .png)
        _ = try verifier(train, test: test, baseline: baseline, report: parent + "/changed").run(store: other, arguments: ["cloak"])
        let final = try other.verifications(runID: otherRun)
        #expect(final.count == 4)
        #expect(final.filter(\.isBaseline).prefix(1).map(\.id) == kept.map(\.id), "the baseline trained before is kept")
        #expect(final.filter { !$0.isBaseline }.allSatisfy { record in !kept.contains { $0.id == record.id } && record.id! > kept[0].id! })
    }

    /// Stopped every 2 epochs (each invocation finishes one model and stops within the next), the
    /// verification resumes each model from its last epoch: model, batch-norm statistics, momentum,
    /// learning-rate schedule and random batches (augmentation, adversarial starts) continue exactly.
    @Test func modelsResumeFromTheirLastEpochWithTheSameResult() throws {
        let train = try makeTinyFolder(seed: 4), test = try makeTinyFolder(seed: 5), baseline = try makeTinyFolder(seed: 6)
        let parent = try temporaryFolder()
        func make(_ report: String) -> Verifier {
            var v = verifier(train, test: test, baseline: baseline, report: parent + report)
            v.settings.epochs = 3
            v.settings.countermeasures = [.augment, .adversarial]
            v.settings.adversarialSteps = 2
            return v
        }
        let reference = try make("/reference").run(store: try ProvenanceStore(), arguments: ["cloak"]).result

        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        var invocations = 0
        var result: VerificationResult?
        while result == nil && invocations < 10 {
            var stopping = make("/resumed")
            stopping.stopAfterEpochs = 2
            invocations += 1
            do {
                result = try stopping.run(store: store, arguments: ["cloak"]).result
            } catch is Verifier.Stopped {
                let saved = try FileManager.default.contentsOfDirectory(atPath: parent + "/resumed/.cloak-verify")
                #expect(saved.count == 1, "one model in progress: \(saved)")
            }
        }
        #expect(invocations == 5, "4 models of 3 epochs, at most 2 epochs of the first model per invocation")
        let resumed = try #require(result)
        for (r, s) in zip(resumed.rows, reference.rows) {
            for (a, b) in [(r.protected, s.protected), (r.baseline!, s.baseline!)] {
                #expect(a.accuracies == b.accuracies && a.trainingLosses == b.trainingLosses, "\(r.countermeasure)")
                #expect(a.finalConfusion == b.finalConfusion)
            }
        }
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 4)
        #expect(try store.verifications(runID: runs[0].id).count == 4)
        #expect(!FileManager.default.fileExists(atPath: parent + "/resumed/.cloak-verify"), "the saved states are removed")
    }
}
