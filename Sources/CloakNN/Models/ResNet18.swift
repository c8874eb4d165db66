/// ResNet's basic residual block (He et al. 2016), as in kuangliu/pytorch-cifar:
/// `y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where `shortcut` is a 1x1 convolution with
/// batch norm when the stride or the channel count changes, and the identity otherwise.
///
/// Input NHWC `[N, H, W, inputChannels]` → `[N, ⌈H/stride⌉, ⌈W/stride⌉, outputChannels]`. Sublayer names match
/// PyTorch: `conv1`, `bn1`, `conv2`, `bn2`, `shortcut.0`, `shortcut.1`.
public final class BasicBlock: Layer {
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    public let shortcut: Sequential?
    private let relu2 = ReLU()

    public init(inputChannels: Int, outputChannels: Int, stride: Int = 1, using generator: inout some RandomNumberGenerator) {
        conv1 = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, stride: stride,
                       padding: 1, bias: false, using: &generator)
        bn1 = BatchNorm2D(featureCount: outputChannels)
        conv2 = Conv2D(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1,
                       bias: false, using: &generator)
        bn2 = BatchNorm2D(featureCount: outputChannels)
        if stride != 1 || inputChannels != outputChannels {
            shortcut = Sequential([
                Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, stride: stride,
                       bias: false, using: &generator),
                BatchNorm2D(featureCount: outputChannels),
            ])
        } else {
            shortcut = nil
        }
    }

    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }

    public func forward(_ input: Tensor) -> Tensor {
        let main = bn2(conv2(bn1.forward(conv1(input), fusingReLU: true)))
        return relu2(add(main, shortcut?(input) ?? input))
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let sumGradient = relu2.backward(outputGradient)
        var dx = conv1.backward(bn1.backward(conv2.backward(bn2.backward(sumGradient))))
        accumulate(shortcut?.backward(sumGradient) ?? sumGradient, into: &dx)
        return dx
    }
}

/// ResNet-18 for small images (the CIFAR variant of kuangliu/pytorch-cifar): a 3x3 stride-1 stem without
/// max pooling, four stages of two `BasicBlock`s (64, 128, 256, 512 channels; stages 2-4 start with stride 2),
/// global average pooling and a linear head.
///
/// Input NHWC `[N, H, W, inputChannels]` (32x32 for CIFAR) → logits `[N, classCount]`. Parameter names match
/// that PyTorch model's `state_dict` (`conv1.weight`, `layer1.0.bn1.running_mean`, ..., `linear.bias`).
public final class ResNet18: Layer {
    public let conv1: Conv2D
    public let bn1 = BatchNorm2D(featureCount: 64)
    public let layers: [Sequential]
    public let linear: Linear
    private let pool = AvgPool2D.global()
    private let flatten = Flatten()

    public init(inputChannels: Int = 3, classCount: Int = 10, using generator: inout some RandomNumberGenerator) {
        conv1 = Conv2D(inputChannels: inputChannels, outputChannels: 64, kernelSize: 3, padding: 1, bias: false,
                       using: &generator)
        var stages: [Sequential] = []
        var channels = 64
        for (width, stride) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
            let first = BasicBlock(inputChannels: channels, outputChannels: width, stride: stride, using: &generator)
            let second = BasicBlock(inputChannels: width, outputChannels: width, using: &generator)
            stages.append(Sequential([first, second]))
            channels = width
        }
        layers = stages
        linear = Linear(inputCount: 512, outputCount: classCount, using: &generator)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element) }
            + [("linear", linear)]
    }

    public func forward(_ input: Tensor) -> Tensor {
        var x = bn1.forward(conv1(input), fusingReLU: true)
        for stage in layers { x = stage(x) }
        return linear(flatten(pool(x)))
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        var g = pool.backward(flatten.backward(linear.backward(outputGradient)))
        for stage in layers.reversed() { g = stage.backward(g) }
        return conv1.backward(bn1.backward(g), needsInputGradient: needsInputGradient)
    }
}
