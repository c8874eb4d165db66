import CloakTensor

/// ResNet's basic residual block (He et al. 2016), as in kuangliu/pytorch-cifar:
/// `y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, where `shortcut` is a 1x1 convolution with
/// batch norm when the stride or the channel count changes, and the identity otherwise.
///
/// Input NHWC `[N, H, W, inputChannels]` → `[N, ⌈H/stride⌉, ⌈W/stride⌉, outputChannels]`. Sublayer names match
/// PyTorch: `conv1`, `bn1`, `conv2`, `bn2`, `shortcut.0`, `shortcut.1`.
public final class BasicBlock: Layer {
    /// 3x3 convolution, stride `stride`, padding 1, no bias: `inputChannels` → `outputChannels`.
    public let conv1: Conv2D
    /// Batch norm after `conv1` (run fused with the ReLU that follows it).
    public let bn1: BatchNorm2D
    /// 3x3 convolution, stride 1, padding 1, no bias: `outputChannels` → `outputChannels`.
    public let conv2: Conv2D
    /// Batch norm after `conv2`, before the residual sum.
    public let bn2: BatchNorm2D
    /// 1x1 convolution (stride `stride`, no bias) followed by batch norm when the stride or the channel count
    /// changes; `nil` (identity) otherwise.
    public let shortcut: Sequential?
    private let relu2 = ReLU()

    /// Creates a block; `conv1`, `conv2` and then the shortcut convolution draw their weights from `generator`.
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

    /// `conv1`, `bn1`, `conv2`, `bn2`, and `shortcut` if present.
    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }

    /// See `Layer.forward(_:)`; the sublayers (and the final ReLU) cache what backward needs.
    public func forward(_ input: Tensor) -> Tensor {
        let main = bn2(conv2(bn1.forward(conv1(input), fusingReLU: true)))
        return relu2(add(main, shortcut?(input) ?? input))
    }

    /// Back-propagates through the final ReLU, then the main path and the shortcut, and returns the sum of their
    /// input gradients (see the `Layer` gradient contract).
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
    /// Stem: 3x3 convolution, stride 1, padding 1, no bias, `inputChannels` → 64.
    public let conv1: Conv2D
    /// Batch norm after the stem (run fused with its ReLU).
    public let bn1 = BatchNorm2D(featureCount: 64)
    /// The four stages `layer1` ... `layer4`, each a `Sequential` of two `BasicBlock`s.
    public let layers: [Sequential]
    /// The head `Linear(512, classCount)` on the globally average-pooled features.
    public let linear: Linear
    private let pool = AvgPool2D.global()
    private let flatten = Flatten()

    /// Creates the network initialised as PyTorch's defaults; the stem, the stages and the head draw their weights
    /// from `generator` in that order.
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

    /// `conv1`, `bn1`, `layer1` ... `layer4`, `linear` (pooling and flatten have no state and are not listed).
    public var children: [(name: String, layer: any Layer)] {
        [("conv1", conv1), ("bn1", bn1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element) }
            + [("linear", linear)]
    }

    /// Returns logits `[N, classCount]` (see `Layer.forward(_:)`); the sublayers cache what backward needs.
    public func forward(_ input: Tensor) -> Tensor {
        var x = bn1.forward(conv1(input), fusingReLU: true)
        for stage in layers { x = stage(x) }
        return linear(flatten(pool(x)))
    }

    /// The full backward, `backward(_:needsInputGradient: true)` (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    /// See `Layer.backward(_:needsInputGradient:)`: with `false`, the stem convolution skips its input gradient and
    /// zeros of the input's shape are returned.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        var g = pool.backward(flatten.backward(linear.backward(outputGradient)))
        for stage in layers.reversed() { g = stage.backward(g) }
        return conv1.backward(bn1.backward(g), needsInputGradient: needsInputGradient)
    }
}
