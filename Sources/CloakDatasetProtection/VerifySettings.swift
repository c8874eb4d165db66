import CloakNN
import CloakTensor

/// Settings of a verification: the recipe of the fresh models trained on (possibly protected) data, and the
/// countermeasures to train them under.
public struct VerifySettings: Codable, Sendable {
    public var model: UnlearnableSettings.Model = .small
    public var epochs: Int = 10
    public var seed: UInt64 = 0
    public var batchSize: Int = 128
    /// SGD with cosine annealing over the epochs, as the reference's evaluation (lr 0.1, momentum 0.9,
    /// weight decay 5e-4, gradient-norm clip 5).
    public var learningRate: Double = 0.1
    public var momentum: Double = 0.9
    public var weightDecay: Double = 5e-4
    public var gradientClip: Double = 5
    public var countermeasures: [Countermeasure] = [.none]
    /// Use only the first N training images of each class (test set: all).
    public var limitPerClass: Int?
    /// Adversarial training: PGD steps, budget and step in 0-255 levels.
    public var adversarialSteps: Int = 10
    public var adversarialEpsilon: Double = 8
    public var adversarialStepSize: Double = 2
    /// Clean-test checks per epoch: 1 measures after each epoch; N > 1 also measures N - 1 times within
    /// it, at evenly spaced batches, to catch the best weights a trainer who checks more often could keep.
    public var checksPerEpoch: Int = 1
    /// Partial protection: this fraction (0 ..< 1) of the protected training images, chosen at random
    /// (seeded), is replaced by their clean originals from the baseline before training (``CleanMix``).
    public var cleanFraction: Double = 0

    public init() {}
}

/// One model of a verification, built from ``VerifySettings`` for one countermeasure: a fresh seeded network,
/// SGD with cosine annealing over the epochs, standard augmentation under ``Countermeasure/augment`` and PGD
/// adversarial training under ``Countermeasure/adversarial``.
public struct VerifierTraining {
    public let settings: VerifySettings
    public let countermeasure: Countermeasure
    public let model: any Layer
    public let optimizer: SGD
    public let configuration: TrainingConfiguration

    public init(settings: VerifySettings, countermeasure: Countermeasure, channels: Int, classCount: Int) {
        self.settings = settings
        self.countermeasure = countermeasure
        model = SurrogateModels.make(settings.model, inputChannels: channels, classCount: classCount, seed: settings.seed)
        optimizer = SGD(learningRate: Float(settings.learningRate), momentum: Float(settings.momentum),
                        weightDecay: Float(settings.weightDecay))
        var configuration = TrainingConfiguration(
            epochs: settings.epochs, batchSize: settings.batchSize,
            schedule: CosineAnnealing(base: Float(settings.learningRate), period: settings.epochs),
            gradientClipNorm: Float(settings.gradientClip),
            augmentation: countermeasure == .augment ? Augmentation.standard : nil)
        configuration.evaluationsPerEpoch = settings.checksPerEpoch
        self.configuration = configuration
    }

    /// The generator of the batch order, augmentation and adversarial starts, at the start of training.
    public var initialGenerator: SplitMix64 { SplitMix64(seed: settings.seed &+ 1) }

    /// Trains `epochs` of `data` (already through ``Countermeasure/prepare(_:)``), testing on `test` as the
    /// configuration says; see ``Trainer/fit(_:evaluatingOn:epochs:using:onEpoch:savingStateAfterEpoch:transformingBatches:)``.
    public func fit(_ data: LabelledImages, evaluatingOn test: LabelledImages, epochs: Range<Int>,
                    using generator: inout SplitMix64, onEpoch: (EpochSummary) -> Void,
                    savingStateAfterEpoch saveState: @escaping (EpochSummary, SplitMix64) -> Void) {
        if countermeasure == .adversarial {
            AdversarialTraining(model: model, optimizer: optimizer, configuration: configuration,
                                epsilon: Float(settings.adversarialEpsilon / 255),
                                stepSize: Float(settings.adversarialStepSize / 255), steps: settings.adversarialSteps)
                .fit(data, evaluatingOn: test, epochs: epochs, using: &generator, onEpoch: onEpoch, savingStateAfterEpoch: saveState)
        } else {
            Trainer(model: model, optimizer: optimizer, configuration: configuration)
                .fit(data, evaluatingOn: test, epochs: epochs, using: &generator, onEpoch: onEpoch, savingStateAfterEpoch: saveState)
        }
    }
}
