/// The Unlearnable Examples surrogate ("ToyModel", HanxunH/Unlearnable-Examples `models/ToyModel.py`):
/// three blocks of [Conv 3x3 pad 1 with bias → BatchNorm → ReLU → MaxPool 2x2], global average pooling and a
/// linear head. Any input channel count and size (at least 8x8).
///
/// Input NHWC `[N, H, W, inputChannels]` → logits `[N, classCount]`. Parameter names match the reference's
/// PyTorch `state_dict` (`block1.0.out_conv.0.weight`, ..., `fc.bias`), so its weights load directly.
public final class SmallCNN: Layer {
    public let block1: Sequential
    public let globalAveragePool = AvgPool2D.global()
    public let flatten = Flatten()
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

    public var children: [(name: String, layer: any Layer)] {
        [("block1", block1), ("global_avg_pool", globalAveragePool), ("flatten", flatten), ("fc", fc)]
    }

    public func forward(_ input: Tensor) -> Tensor {
        fc(flatten(globalAveragePool(block1(input))))
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        block1.backward(globalAveragePool.backward(flatten.backward(fc.backward(outputGradient))),
                        needsInputGradient: needsInputGradient)
    }
}
