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

    /// Bytes a training batch holds per image pixel (activations kept for the backward pass, their
    /// gradients, oneDNN's work space), measured with `/usr/bin/time -f %M` on `cloak unlearnable` at 64x64
    /// and 128x128 with batches of 32 and 128 (`small`: 1.78 and 1.79 KB; `resnet18` at 64x64, batches
    /// 16 and 64: 7.0 KB); rounded up. Checked on the demo's job (20,000 Fashion-MNIST images, batch 512): 1.31 GB
    /// estimated, 1.32 GB peak measured.
    public static func bytesPerBatchPixel(_ model: UnlearnableSettings.Model) -> Int {
        switch model {
        case .small: return 2_048
        case .resnet18: return 8_192
        }
    }
}
