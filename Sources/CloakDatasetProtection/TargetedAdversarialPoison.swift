import CloakNN
import CloakTensor

/// Class-targeted adversarial poisoning (TAP; Fowl et al., "Adversarial Examples Make Strong Poisons", NeurIPS 2021),
/// added to error-minimising noise when ``UnlearnableSettings/targetedPoison`` is set: every image is pushed toward the features of the class
/// after its own, `(label + 1) mod K`, by projected gradient descent on a model trained on the clean images.
///
/// The crafting model is `small` (the verifier's SmallCNN) trained for ``craftingEpochs`` epochs on the clean images
/// (SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine annealing, batch 128, gradient-norm clip 5, no augmentation);
/// each image then takes ``steps`` sign steps of ``stepSize`` down the cross-entropy of its target class from a random
/// start, within ±ε and [0, 1] (Fowl et al. use a ResNet-18 with 250 steps and 8 restarts on CIFAR-10). The noise of
/// a chunk of images depends only on the crafting model, the seed and the chunk's first index, so a job can make it
/// chunk by chunk and resume between chunks.
public struct TargetedAdversarialPoison: Sendable {
    public static let craftingEpochs = 5
    public static let steps = 10
    public static let stepSize: Float = 2 / 255

    /// L-inf budget in [0, 1] units.
    public let epsilon: Float
    public let seed: UInt64
    public let classCount: Int

    public init(epsilon: Float, seed: UInt64, classCount: Int) {
        self.epsilon = epsilon
        self.seed = seed
        self.classCount = classCount
    }

    /// The seed of the crafting model's initialisation and batches, apart from the error-minimising noise's.
    var craftingSeed: UInt64 { seed &+ 0x7A9 }

    /// An untrained crafting model for `channels`-channel images.
    public func freshCraftingModel(channels: Int) -> any Layer {
        SurrogateModels.make(.small, inputChannels: channels, classCount: classCount, seed: craftingSeed)
    }

    /// The target class of an image of class `label`.
    public func target(of label: Int) -> Int { (label + 1) % classCount }

    /// A fresh `small` model trained on the clean images; `onEpoch` hears each epoch's summary.
    public func trainCraftingModel(on data: LabelledImages, onEpoch: (EpochSummary) -> Void = { _ in }) -> any Layer {
        let model = freshCraftingModel(channels: data.channels)
        let configuration = TrainingConfiguration(
            epochs: Self.craftingEpochs, batchSize: 128,
            schedule: CosineAnnealing(base: 0.1, period: Self.craftingEpochs), gradientClipNorm: 5)
        var generator = SplitMix64(seed: craftingSeed)
        Trainer(model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4),
                configuration: configuration)
            .fit(data, using: &generator, onEpoch: onEpoch)
        return model
    }

    /// The noise of the images `indices` (HWC per image, in [−ε, ε], image after image), each pulled toward its target
    /// class; random starts drawn from `seed` and `indices.first`.
    public func noise(for data: LabelledImages, indices: [Int], model: any Layer) -> [Float] {
        var generator = SplitMix64(seed: craftingSeed &+ UInt64(indices.first ?? 0) &* 0x9E37)
        let pgd = ProjectedGradient(epsilon: epsilon, stepSize: Self.stepSize, steps: Self.steps, direction: .descent)
        var noise = [Float]()
        noise.reserveCapacity(indices.count * data.imageSize)
        for start in stride(from: 0, to: indices.count, by: 512) {
            let batch = data.batch(Array(indices[start..<min(indices.count, start + 512)]))
            let moved = pgd.walk(model: model, clean: batch.images, labels: batch.labels.map(target(of:)), using: &generator)
            let x = batch.images.scalars, m = moved.scalars
            noise += zip(m, x).map { $0 - $1 }
        }
        return noise
    }

    /// The error-minimising noise (`patternOf(i)`'s pattern for image `i`) plus each image's targeted-poison noise,
    /// clipped to ±ε: one pattern per image, HWC, image after image.
    public static func sum(errorMinimizing em: [Float], patternOf: (Int) -> Int, poison: [Float], imageSize: Int,
                    epsilon: Float) -> [Float] {
        var out = poison
        for i in 0..<(poison.count / imageSize) {
            let p = patternOf(i) * imageSize, o = i * imageSize
            for j in 0..<imageSize { out[o + j] = min(epsilon, max(-epsilon, em[p + j] + poison[o + j])) }
        }
        return out
    }
}
