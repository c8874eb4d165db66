import CloakDatasetProtection
import CloakSupport
import CloakData
import CloakImage
import CloakNN
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

@Suite("Unlearnable examples")
struct UnlearnableTests {
    func job(_ root: String, out: String, mode: UnlearnableSettings.Mode, rounds: Int = 3) -> UnlearnableJob {
        var settings = UnlearnableSettings(mode: mode)
        settings.batchSize = 8
        settings.trainSteps = 2
        settings.pgdSteps = 2
        settings.subset = mode == .class ? 0.5 : 1
        settings.stopError = 0        // never reached: the round limit ends it
        settings.maxRounds = rounds
        settings.seed = 11
        var j = UnlearnableJob(trainFolder: root, outputFolder: out, settings: settings, quiet: true)
        j.stopAfterRounds = nil
        return j
    }

    @Test func classWiseNoiseIsOnePatternPerClassAndOutputsStayInTheBudget() throws {
        let root = try makeTinyFolder()
        let out = (root as NSString).deletingLastPathComponent + "/cloaked"
        var j = job(root, out: out, mode: .class)
        j.settings.stopError = 0.99   // reached at once: the outputs are written
        try FileManager.default.createDirectory(atPath: out + "/class0", withIntermediateDirectories: true)
        for name in [".3.png.cloak-tmp-5e2a07", ".kept"] {
            #expect(FileManager.default.createFile(atPath: "\(out)/class0/\(name)", contents: Data([0x89])))
        }
        let store = try ProvenanceStore()
        let summary = try j.run(store: store, arguments: ["cloak", "unlearnable"])
        #expect(summary.written == 24 && summary.failures == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/class0").filter { $0.hasPrefix(".") }
                    == [".kept"])   // a killed run's half-written file is gone, nothing else
        let (noise, shape) = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: out + "/noise.npy")!), path: "noise.npy")
        #expect(shape == [3, 1, 12, 12])
        #expect(noise.allSatisfy { abs($0) <= 8 / 255 + 1e-7 })
        // Every output, decoded from its PNG, is within 8 levels of its input; pixels that were not clamped
        // carry exactly their class's noise pattern (rounded)
        for c in 0..<3 {
            for i in 0..<8 {
                let input = try ImageCodec.decode(path: "\(root)/class\(c)/\(i).png").image
                let output = try ImageCodec.decode(path: "\(out)/class\(c)/\(i).png").image
                #expect(ImageMetrics.linf(input, output) <= 8)
                for p in 2..<(12 * 12) where input.pixels[3 * p] > 10 && input.pixels[3 * p] < 245 {
                    let expected = Int((Float(input.pixels[3 * p]) / 255 + noise[c * 144 + p]) * 255)
                    #expect(abs(Int(output.pixels[3 * p]) - expected) <= 1)
                }
            }
        }
        #expect(try store.outputCount(runID: summary.runID) == 24)
    }

    @Test func sampleWiseNoiseDiffersPerSample() throws {
        let root = try makeTinyFolder(classes: 2, perClass: 6)
        let out = (root as NSString).deletingLastPathComponent + "/cloaked"
        var j = job(root, out: out, mode: .sample, rounds: 2)
        j.settings.stopError = 0.99
        _ = try j.run(store: try ProvenanceStore(), arguments: ["cloak"])
        let (noise, shape) = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: out + "/noise.npy")!), path: "n")
        #expect(shape == [12, 1, 12, 12])
        let patterns = (0..<12).map { Array(noise[($0 * 144)..<(($0 + 1) * 144)]) }
        // Images of the same class get different noise: it is indexed by sample, not by class
        #expect(patterns[0] != patterns[1])
        #expect(Set(patterns.map { $0.map(\.bitPattern) }).count == 12)
    }

    @Test func interruptedJobResumesAsOneRunWithACompleteOutputSet() throws {
        let root = try makeTinyFolder()
        let parent = (root as NSString).deletingLastPathComponent
        let storePath = parent + "/store.sqlite"
        // An uninterrupted reference run
        let reference = job(root, out: parent + "/reference", mode: .class, rounds: 4)
        let referenceStore = try ProvenanceStore()
        #expect(throws: UnlearnableError.self) { try reference.run(store: referenceStore, arguments: ["cloak"]) }

        // The same job stopped after round 2, then started again
        var interrupted = job(root, out: parent + "/resumed", mode: .class, rounds: 4)
        interrupted.settings.stopError = 0
        interrupted.stopAfterRounds = 2
        let store = try ProvenanceStore(path: storePath)
        #expect(throws: UnlearnableJob.Stopped.self) { try interrupted.run(store: store, arguments: ["cloak"]) }
        #expect(try store.recentRuns().first?.status == .interrupted)
        let saved = try #require(try savedState(of: store))
        #expect(saved.round == 2 && saved.history.count == 2)

        // Resumed with a round limit that the stop error is then reached within
        var resumed = job(root, out: parent + "/resumed", mode: .class, rounds: 4)
        resumed.settings.stopError = 0
        #expect(throws: UnlearnableError.stopErrorNotReached(rounds: 4, error: try #require(
            savedState(of: referenceStore)?.history.last?.error), stopError: 0)) {
            try resumed.run(store: store, arguments: ["cloak"])
        }
        #expect(UnlearnableError.stopErrorNotReached(rounds: 1, error: 0.25, stopError: 0).localizedDescription
            .hasPrefix("the surrogate's error was still 0.2500 after 1 round (stop error 0.0000, which no error is below); "))
        #expect(UnlearnableError.stopErrorNotReached(rounds: 4, error: 0.25, stopError: 0.01).localizedDescription
            .hasPrefix("the surrogate's error was still 0.2500 after 4 rounds (stop error 0.0100); no images were written"))
        let state = try #require(try savedState(of: store))
        #expect(state.round == 4 && state.history.map(\.round) == [1, 2, 3, 4])
        // The resumed run followed the same path as the uninterrupted one
        let referenceState = try #require(try savedState(of: referenceStore))
        #expect(state.history.map(\.error) == referenceState.history.map(\.error))

        // Now let it finish (stop error reachable) and write outputs: still one run, no duplicates
        var finishing = job(root, out: parent + "/resumed", mode: .class, rounds: 5)
        finishing.settings.stopError = 0.99
        let summary = try finishing.run(store: store, arguments: ["cloak"])
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 2)
        #expect(summary.written == 24)
        #expect(try store.outputCount(runID: runs[0].id) == 24)
        #expect(try store.outputPaths(runID: runs[0].id).count == Set(try store.outputPaths(runID: runs[0].id)).count)
        // The completed run removed its state; the output holds the images and the three files, nothing else
        #expect(try savedState(of: store) == nil)
        let top = try FileManager.default.contentsOfDirectory(atPath: parent + "/resumed").sorted()
        #expect(top == ["class0", "class1", "class2", "noise.json", "noise.npy", "unlearnable.json"])
    }

    /// The state a job saved beside `store` (one job's), or `nil` when there is none.
    func savedState(of store: ProvenanceStore) throws -> UnlearnableState? {
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: store.stateDirectory)) ?? [])
            .filter { $0.hasPrefix("unlearnable-") }
        #expect(folders.count <= 1)
        return try folders.first.flatMap { try UnlearnableState.load(from: store.stateDirectory + "/" + $0) }
    }
}

