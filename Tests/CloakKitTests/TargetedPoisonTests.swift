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
    /// 3 classes of 16 grey 12x12 images in memory, each class a bar of its own orientation plus noise.
    func bars() -> LabelledImages {
        var generator = SplitMix64(seed: 5)
        var pixels = [Float](), labels = [Int]()
        for i in 0..<48 {
            let c = i % 3
            for y in 0..<12 {
                for x in 0..<12 {
                    let bar = (c == 0 && x == 6) || (c == 1 && y == 6) || (c == 2 && x == y)
                    pixels.append(min(1, max(0, (bar ? 0.8 : 0.15) + Float.random(in: -0.1...0.1, using: &generator))))
                }
            }
            labels.append(c)
        }
        return LabelledImages(pixels: pixels, labels: labels, height: 12, width: 12, channels: 1)
    }

    @Test func everyImageIsPulledTowardTheNextClassWithinTheBudget() {
        let data = bars()
        let eps: Float = 16 / 255
        let poisoner = TargetedAdversarialPoison(epsilon: eps, seed: 3, classCount: 3)
        #expect((0..<3).map(poisoner.target(of:)) == [1, 2, 0])
        let model = poisoner.trainCraftingModel(on: data)
        let noise = poisoner.noise(for: data, indices: Array(0..<data.count), model: model)
        #expect(noise.count == data.pixels.count)
        #expect(noise.allSatisfy { abs($0) <= eps * (1 + 1e-6) })
        #expect(zip(data.pixels, noise).allSatisfy { $0 + $1 >= -1e-6 && $0 + $1 <= 1 + 1e-6 }, "the sum stays in [0, 1]")
        #expect(noise[0..<144] != noise[144..<288] && noise[0..<144] != noise[432..<576], "one pattern per image")

        // The crafting model's loss toward the target classes falls: the steps go down it, not up.
        let targets = data.labels.map(poisoner.target(of:))
        func targetLoss(_ pixels: [Float]) -> Float {
            model.setTraining(false)
            return softmaxCrossEntropy(logits: model(Tensor(shape: [data.count, 12, 12, 1], scalars: pixels)), labels: targets).loss
        }
        let clean = targetLoss(data.pixels), poisoned = targetLoss(zip(data.pixels, noise).map(+))
        #expect(poisoned < clean - 0.05, "target-class loss \(clean) -> \(poisoned)")
        // Seeded by the chunk's first image: the same images give the same noise.
        #expect(poisoner.noise(for: data, indices: Array(0..<data.count), model: model) == noise)
    }

    @Test func theSumIsPerImageAndClippedToTheBudget() {
        // Two class patterns of 2 values, three images (classes 0, 1, 0), budget 0.1.
        let sum = TargetedAdversarialPoison.sum(errorMinimizing: [0.08, -0.05, 0.01, 0.02], patternOf: { [0, 1, 0][$0] },
                                                poison: [0.05, 0.05, -0.02, 0.03, 0, -0.09], imageSize: 2, epsilon: 0.1)
        let expected: [Float] = [0.1, 0, -0.01, 0.05, 0.08, -0.1]
        #expect(zip(sum, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(sum)")
    }

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
