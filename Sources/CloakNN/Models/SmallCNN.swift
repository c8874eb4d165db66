import CloakTensor

/// The Unlearnable Examples surrogate ("ToyModel", HanxunH/Unlearnable-Examples `models/ToyModel.py`):
/// three blocks of [Conv 3x3 pad 1 with bias → BatchNorm → ReLU → MaxPool 2x2], global average pooling and a
/// linear head. Any input channel count and size (at least 8x8).
///
/// Input NHWC `[N, H, W, inputChannels]` → logits `[N, classCount]`. Parameter names match the reference's
/// PyTorch `state_dict` (`block1.0.out_conv.0.weight`, ..., `fc.bias`), so its weights load directly.
public final class SmallCNN: Layer {
    /// One conv block per width, each followed by its 2x2 max pooling (`block1.0`, `block1.1`, ...).
    public let block1: Sequential
    /// Global average pooling `[N, H', W', C]` → `[N, 1, 1, C]` (sublayer `global_avg_pool`).
    public let globalAveragePool = AvgPool2D.global()
    /// `[N, 1, 1, C]` → `[N, C]`.
    public let flatten = Flatten()
    /// The head `Linear(widths.last, classCount)`.
    public let fc: Linear

    /// - Parameters:
    ///   - widths: channels of the three blocks (the reference uses 64, 128, 256).
    public init(inputChannels: Int, classCount: Int, widths: [Int] = [64, 128, 256],
                using generator: inout some RandomNumberGenerator) {
        var layers: [any Layer] = []
        var channels = inputChannels
        for width in widths {
            let branch = Sequential(named: [("out_conv", Sequential([
                Conv2D(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, using: &generator),
                BatchNorm2D(featureCount: width),
                ReLU(),
            ]))])
            layers += [branch, MaxPool2D(kernelSize: 2)]
            channels = width
        }
        block1 = Sequential(layers)
        fc = Linear(inputCount: channels, outputCount: classCount, using: &generator)
    }

    /// `block1`, `global_avg_pool`, `flatten`, `fc`, as in the reference.
    public var children: [(name: String, layer: any Layer)] {
        [("block1", block1), ("global_avg_pool", globalAveragePool), ("flatten", flatten), ("fc", fc)]
    }

    /// Returns logits `[N, classCount]` (see `Layer.forward(_:)`); the sublayers cache what backward needs.
    public func forward(_ input: Tensor) -> Tensor {
        fc(flatten(globalAveragePool(block1(input))))
    }

    /// The full backward, `backward(_:needsInputGradient: true)` (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    /// See `Layer.backward(_:needsInputGradient:)`: with `false`, `block1` skips the first convolution's input gradient
    /// and zeros of the input's shape are returned.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        block1.backward(globalAveragePool.backward(flatten.backward(fc.backward(outputGradient))),
                        needsInputGradient: needsInputGradient)
    }
}
