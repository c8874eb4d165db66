import CloakNN
import CloakTensor

/// Builds the networks Cloak trains: surrogates for noise generation and verifier models.
public enum SurrogateModels {
    /// A freshly initialised model, seeded.
    ///
    /// - `small`: ``SmallCNN`` (the Unlearnable Examples ToyModel), any input size >= 8x8.
    /// - `resnet18`: ``ResNet18``, CIFAR variant (3x3 stem, no max-pool).
    public static func make(_ model: UnlearnableSettings.Model, inputChannels: Int, classCount: Int,
                            seed: UInt64) -> any Layer {
        var generator = SplitMix64(seed: seed)
        switch model {
        case .small: return SmallCNN(inputChannels: inputChannels, classCount: classCount, using: &generator)
        case .resnet18: return ResNet18(inputChannels: inputChannels, classCount: classCount, using: &generator)
        }
    }
}
