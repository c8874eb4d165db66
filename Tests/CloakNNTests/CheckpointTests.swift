import CloakTensor
import Foundation
import Testing
@testable import CloakNN

@Suite("Checkpoints")
struct CheckpointTests {
    func model(seed: UInt64) -> SmallCNN {
        var rng = SplitMix64(seed: seed)
        return SmallCNN(inputChannels: 1, classCount: 3, widths: [2, 3, 4], using: &rng)
    }

    @Test("save and load round-trip weights and buffers; the loaded model computes the same output")
    func roundTrip() throws {
        let source = model(seed: 1)
        _ = source(randomTensor([4, 8, 8, 1], seed: 2))     // training forward: running stats move off defaults
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cloak-ckpt-\(UInt32.random(in: 0...UInt32.max)).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(of: source).write(to: url)

        let target = model(seed: 99)
        try Checkpoint(contentsOf: url).load(into: target)
        for ((_, a), (_, b)) in zip(source.parameters, target.parameters) { #expect(a.value.scalars == b.value.scalars) }
        for ((_, a), (_, b)) in zip(source.buffers, target.buffers) { #expect(a.value.scalars == b.value.scalars) }
        source.setTraining(false); target.setTraining(false)
        let x = randomTensor([2, 8, 8, 1], seed: 3)
        #expect(source(x).scalars == target(x).scalars)
        #expect(Checkpoint(of: source).contentHash == Checkpoint(of: target).contentHash)
        #expect(Checkpoint(of: source).contentHash != Checkpoint(of: model(seed: 5)).contentHash)
    }

    @Test("a wrong version, a corrupted byte, or foreign bytes fail clearly")
    func failures() throws {
        var bytes = [UInt8](Checkpoint(of: model(seed: 1)).serialized())
        var wrongVersion = bytes
        wrongVersion[8] = 7
        #expect(throws: CheckpointError.unsupportedVersion(found: 7, supported: 1)) { try Checkpoint(data: Data(wrongVersion)) }
        #expect(CheckpointError.unsupportedVersion(found: 7, supported: 1).errorDescription!.contains("version 7"))
        bytes[40] ^= 0xFF
        #expect(throws: CheckpointError.hashMismatch) { try Checkpoint(data: Data(bytes)) }
        #expect(throws: CheckpointError.notACheckpoint) { try Checkpoint(data: Data("not a checkpoint at all, just text".utf8)) }
    }

    @Test("loading into a model of another shape names the offending tensor")
    func shapeMismatch() throws {
        var rng = SplitMix64(seed: 4)
        let other = SmallCNN(inputChannels: 1, classCount: 3, widths: [2, 3, 5], using: &rng)
        #expect(throws: CheckpointError.shapeMismatch(name: "block1.4.out_conv.0.weight", expected: [5, 3, 3, 3],
                                                      found: [4, 3, 3, 3])) {
            try Checkpoint(of: model(seed: 1)).load(into: other)
        }
    }
}

@Suite("Training utilities")
struct TrainingUtilityTests {
    @Test("seeded permutation is a reproducible permutation")
    func permutation() {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        let p = seededPermutation(count: 100, using: &a)
        #expect(p == seededPermutation(count: 100, using: &b))
        #expect(p.sorted() == Array(0..<100) && p != Array(0..<100))
    }

    @Test("augmentation: flip mirrors, crop shifts with zero fill, shapes kept")
    func augmentation() {
        let x = Tensor(shape: [1, 2, 3, 1], scalars: [1, 2, 3, 4, 5, 6])
        var rng = SplitMix64(seed: 1)
        var flips = 0
        for _ in 0..<20 {
            let y = Augmentation(horizontalFlip: true).apply(to: x, using: &rng)
            if y.scalars == [3, 2, 1, 6, 5, 4] { flips += 1 } else { #expect(y.scalars == x.scalars) }
        }
        #expect(flips > 0 && flips < 20)
        for _ in 0..<20 {
            let y = Augmentation(cropPadding: 1).apply(to: x, using: &rng)
            #expect(y.shape == x.shape)
            // Every value is either zero padding or an input pixel, and the pixel order is a shift.
            #expect(y.scalars.allSatisfy { $0 == 0 || x.scalars.contains($0) })
        }
    }

    @Test("schedules and clipping follow PyTorch's formulas")
    func schedulesAndClipping() {
        let cosine = CosineAnnealing(base: 0.1, period: 10)
        #expect(cosine.learningRate(at: 0) == 0.1 && abs(cosine.learningRate(at: 5) - 0.05) < 1e-7)
        #expect(abs(cosine.learningRate(at: 10)) < 1e-7)
        let multi = MultiStep(base: 1, milestones: [3, 6], gamma: 0.1)
        #expect([0, 2, 3, 5, 6, 9].map(multi.learningRate(at:)).map { ($0 * 1000).rounded() } == [1000, 1000, 100, 100, 10, 10])
        let p = Parameter(Tensor(zeros: [2]))
        p.gradient = Tensor(shape: [2], scalars: [3, 4])
        #expect(clipGradientNorm([("p", p)], maxNorm: 1) == 5)
        #expect(abs(p.gradient[0] - 0.6) < 1e-5 && abs(p.gradient[1] - 0.8) < 1e-5)
    }
}
