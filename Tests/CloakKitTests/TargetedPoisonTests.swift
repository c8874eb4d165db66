import CloakDatasetProtection
import CloakData
import CloakNN
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

@Suite("cloak unlearnable --targeted-poison")
struct TargetedPoisonTests {
    func poisonJob(_ root: String, out: String) -> UnlearnableJob {
        var settings = UnlearnableSettings(mode: .class)
        settings.batchSize = 8
        settings.trainSteps = 2
        settings.subset = 0.5
        settings.stopError = 0.99     // the error-minimising noise ends after its first round
        settings.maxRounds = 3
        settings.seed = 11
        settings.targetedPoison = true
        return UnlearnableJob(trainFolder: root, outputFolder: out, settings: settings, quiet: true)
    }

    @Test func aJobStoppedInThePoisonResumesToTheNoiseOfAnUninterruptedOne() throws {
        let root = try makeTinyFolder()
        let parent = (root as NSString).deletingLastPathComponent
        _ = try poisonJob(root, out: parent + "/reference").run(store: try ProvenanceStore(path: parent + "/reference.sqlite"),
                                                                 arguments: ["cloak"])

        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        var stopped = poisonJob(root, out: parent + "/resumed")
        stopped.stopAfterPoisonChunks = 0     // once the crafting model is trained and saved
        #expect(throws: UnlearnableJob.Stopped.self) { try stopped.run(store: store, arguments: ["cloak"]) }
        #expect(try store.recentRuns().first?.status == .interrupted)
        let states = try FileManager.default.contentsOfDirectory(atPath: store.stateDirectory)
        #expect(states.count == 1 && states[0].hasPrefix("unlearnable-"))
        #expect(FileManager.default.fileExists(atPath: "\(store.stateDirectory)/\(states[0])/tap-model.ckpt"))
        let summary = try poisonJob(root, out: parent + "/resumed").run(store: store, arguments: ["cloak"])

        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 1)
        #expect(summary.written == 24 && summary.maxLinf <= 8)
        let reference = try #require(FileManager.default.contents(atPath: parent + "/reference/noise.npy"))
        let resumed = try #require(FileManager.default.contents(atPath: parent + "/resumed/noise.npy"))
        #expect(reference == resumed, "the resumed run made the same noise")
        #expect(try NPYFile.decode([UInt8](resumed), path: "noise.npy").shape == [24, 1, 12, 12], "one pattern per image")
        let layout = try #require(FileManager.default.contents(atPath: parent + "/resumed/noise.json"))
        #expect(String(decoding: layout, as: UTF8.self).contains("class0/0.png"), "noise.json lists the images")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.stateDirectory).isEmpty, "the state is removed")
        #expect(try store.models(runID: summary.runID).map(\.role).sorted() == ["crafting", "surrogate"],
                "both models' hashes are recorded")
    }
}
