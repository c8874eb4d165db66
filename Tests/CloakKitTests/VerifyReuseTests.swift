import CloakDatasetProtection
import CloakSupport
import CloakStore
import CloakTensor
import Foundation
import Testing

@testable import CloakKit

@Suite("cloak verify reuses models trained before")
struct VerifyReuseTests {
    func verifier(_ train: String, test: String, baseline: String, report: String) -> Verifier {
        tinyVerifier(train, test: test, baseline: baseline, report: report, countermeasures: [.none, .augment])
    }

    /// A second verification of other protected data against the same baseline reuses the baseline models
    /// (the same curves a new training gives, since training is deterministic), trains the protected ones,
    /// and says so; other settings or `--retrain` train again.
    @Test func theSameBaselineIsTrainedOnceAndReusedWithTheSameCurve() throws {
        let first = try makeTinyFolder(seed: 11), second = try makeTinyFolder(seed: 12)
        let test = try makeTinyFolder(seed: 13), baseline = try makeTinyFolder(seed: 14)
        let parent = try temporaryFolder()
        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        let a = try verifier(first, test: test, baseline: baseline, report: parent + "/a").run(store: store, arguments: ["a"]).result
        #expect(a.rows.allSatisfy { $0.protected.reusedFromRun == nil && $0.baseline?.reusedFromRun == nil })
        // The thread count decides the numbers as a seed does: recorded with the run and in every model's identity
        #expect(try store.run(id: a.runID!)?.parameters.contains("\"threads\":\(ComputeThreads.count)") == true)
        var identity = TrainingIdentity(settings: VerifySettings(), countermeasure: .none, width: 8, height: 8, channels: 1,
                                        trainHash: "a", testHash: "b")
        let key = try identity.key()
        identity.threads += 1
        #expect(try identity.key() != key, "a model trained on another number of threads is not reused")

        let b = try verifier(second, test: test, baseline: baseline, report: parent + "/b").run(store: store, arguments: ["b"]).result
        for (rowA, rowB) in zip(a.rows, b.rows) {
            #expect(rowB.baseline?.reusedFromRun == a.runID, "\(rowB.countermeasure)")
            #expect(rowB.baseline?.accuracies == rowA.baseline?.accuracies)
            #expect(rowB.protected.reusedFromRun == nil, "other protected data is trained")
        }
        let records = try store.verifications(runID: b.runID!)
        #expect(records.count == 4 && records.filter(\.isBaseline).count == 2, "reused models are recorded in the new run too")
        let markdown = VerificationReport.markdown(b)
        #expect(markdown.contains("Reused, not trained again") && markdown.contains("(run \(a.runID!))"))
        #expect(!VerificationReport.markdown(a).contains("Reused"))

        // Trained again: the same curves, which is what makes reuse sound
        var retraining = verifier(second, test: test, baseline: baseline, report: parent + "/c")
        retraining.reusesTrainedModels = false
        let c = try retraining.run(store: store, arguments: ["c"]).result
        for (rowB, rowC) in zip(b.rows, c.rows) {
            #expect(rowC.baseline?.reusedFromRun == nil && rowC.protected.reusedFromRun == nil)
            #expect(rowC.baseline?.accuracies == rowB.baseline?.accuracies && rowC.baseline?.trainingLosses == rowB.baseline?.trainingLosses)
            #expect(rowC.protected.accuracies == rowB.protected.accuracies)
        }

        // Reuse follows back to the run that trained the model; another seed trains anew
        let d = try verifier(first, test: test, baseline: baseline, report: parent + "/d").run(store: store, arguments: ["d"]).result
        #expect(d.rows.allSatisfy { $0.baseline?.reusedFromRun == a.runID || $0.baseline?.reusedFromRun == c.runID })
        #expect(d.rows.allSatisfy { $0.protected.reusedFromRun == a.runID })
        var otherSeed = verifier(first, test: test, baseline: baseline, report: parent + "/e")
        otherSeed.settings.seed = 1
        let e = try otherSeed.run(store: store, arguments: ["e"]).result
        #expect(e.rows.allSatisfy { $0.baseline?.reusedFromRun == nil && $0.protected.reusedFromRun == nil })
    }
}

@Suite("cloak verify on grey data")
struct VerifyGreyDataTests {
    @Test func grayscaleIsNotRunOnGreyImagesAndTheReportSaysSo() throws {
        let train = try makeTinyFolder(seed: 1), test = try makeTinyFolder(seed: 2), baseline = try makeTinyFolder(seed: 3)
        let parent = try temporaryFolder()
        let result = try tinyVerifier(train, test: test, baseline: baseline, report: parent + "/report",
                                      countermeasures: [.none, .grayscale])
            .run(store: try ProvenanceStore(), arguments: ["cloak"]).result
        #expect(result.rows.map(\.countermeasure) == ["none"])
        #expect(result.notRun == ["grayscale"])
        #expect(VerificationReport.markdown(result).contains("Not run: `grayscale` (the images are grey already"))

        // Asked for alone, it is an error before any model is trained
        let store = try ProvenanceStore()
        #expect(throws: VerifyError.nothingToMeasure(path: train, countermeasures: ["grayscale"])) {
            try tinyVerifier(train, test: test, baseline: baseline, report: parent + "/alone", countermeasures: [.grayscale])
                .run(store: store, arguments: ["cloak"])
        }
        #expect(try store.verifications(runID: try #require(try store.recentRuns().first?.id)).isEmpty)
    }
}

@Suite("cloak verify --report")
struct VerifyReportFolderTests {
    /// A report folder holding report files another program wrote is refused before any training, and the files
    /// are left as they were; an earlier report of `cloak verify` is replaced.
    @Test func aReportFolderWithAnotherProgramsReportIsRefusedAndAnEarlierReportReplaced() throws {
        let train = try makeTinyFolder(seed: 21), test = try makeTinyFolder(seed: 22)
        let parent = try temporaryFolder(), report = parent + "/report"
        try FileManager.default.createDirectory(atPath: report, withIntermediateDirectories: true)
        let theirs = Data("<html>the team's own notes</html>".utf8)
        try theirs.write(to: URL(fileURLWithPath: report + "/report.html"))
        let store = try ProvenanceStore()
        #expect(throws: VerifyError.foreignReportFile(path: report + "/report.html")) {
            try tinyVerifier(train, test: test, baseline: nil, report: report, countermeasures: [.none])
                .run(store: store, arguments: ["cloak"])
        }
        #expect(FileManager.default.contents(atPath: report + "/report.html") == theirs)
        #expect(try store.recentRuns().isEmpty, "refused before a run is recorded")

        try Data("{\"rows\": []}".utf8).write(to: URL(fileURLWithPath: report + "/report.json"))
        #expect(throws: VerifyError.foreignReportFile(path: report + "/report.json")) {
            try tinyVerifier(train, test: test, baseline: nil, report: report, countermeasures: [.none])
                .run(store: store, arguments: ["cloak"])
        }

        // A report cloak verify wrote is replaced by the next one
        try FileManager.default.removeItem(atPath: report)
        _ = try tinyVerifier(train, test: test, baseline: nil, report: report, countermeasures: [.none])
            .run(store: store, arguments: ["cloak"])
        let again = try tinyVerifier(train, test: test, baseline: nil, report: report, countermeasures: [.none, .augment])
            .run(store: store, arguments: ["cloak"]).result
        let written = try JSONDecoder().decode(VerificationResult.self,
                                               from: try #require(FileManager.default.contents(atPath: report + "/report.json")))
        #expect(written.rows.map(\.countermeasure) == again.rows.map(\.countermeasure))
        #expect(written.rows.count == 2)
    }
}
