import CloakDatasetProtection
import CloakNN
import CloakTensor
import Testing

@Suite("Class-targeted adversarial poisoning")
struct TargetedAdversarialPoisonTests {
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
}
