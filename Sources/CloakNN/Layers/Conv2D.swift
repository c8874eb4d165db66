import CloakTensor

/// 2-D convolution (cross-correlation) with zero padding, on oneDNN.
///
/// Input `[N, H, W, inputChannels]` (NHWC) → output `[N, OH, OW, outputChannels]`,
/// `OH = 1 + (H + 2·padding − kernelSize) / stride`. Parameters: `weight` `[O, I, k, k]` (PyTorch layout) and
/// optional `bias` `[O]`, initialised as PyTorch's defaults.
public final class Conv2D: Layer {
    /// Input channels `Cin` (the innermost axis of the NHWC input).
    public let inputChannels: Int
    /// Output channels `Cout`.
    public let outputChannels: Int
    /// Kernel height and width `k` (square kernels only).
    public let kernelSize: Int
    /// Step between windows, the same along height and width.
    public let stride: Int
    /// Zero padding added on each side of height and width.
    public let padding: Int
    /// Filters `[Cout, Cin, k, k]`, stored in PyTorch's OIHW layout (oneDNN's reordered copy is only a cache),
    /// Kaiming-uniform initialised with bound 1/√(Cin·k·k).
    public let weight: Parameter
    /// Per-output-channel bias `[Cout]`, U(−1/√(Cin·k·k), 1/√(Cin·k·k)), or `nil` when created with `bias: false`.
    public let bias: Parameter?

    /// Forward cache for `backward`: the input and the geometry it implied.
    private var cachedInput: Tensor?
    private var cachedGeometry: ConvolutionGeometry?

    /// Creates a convolution initialised as PyTorch's `nn.Conv2d`: the weight, then the bias (if `bias`), drawn from
    /// `generator`.
    public init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, using generator: inout some RandomNumberGenerator) {
        precondition(inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && padding >= 0,
                     "Conv2D sizes must be positive")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inputChannels * kernelSize * kernelSize
        weight = Parameter(Initialization.kaimingUniform(
            shape: [outputChannels, inputChannels, kernelSize, kernelSize], fanIn: fanIn, using: &generator))
        self.bias = bias ? Parameter(Initialization.defaultBias(count: outputChannels, fanIn: fanIn, using: &generator)) : nil
    }

    /// `weight`, and `bias` if present.
    public var localParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    private func geometry(for input: Tensor) -> ConvolutionGeometry {
        precondition(input.shape.count == 4 && input.shape[3] == inputChannels,
                     "Conv2D expects NHWC input with \(inputChannels) channels, got \(input.shape)")
        return ConvolutionGeometry(
            batch: input.shape[0], inputHeight: input.shape[1], inputWidth: input.shape[2],
            inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize,
            kernelWidth: kernelSize, strideHeight: stride, strideWidth: stride, paddingHeight: padding,
            paddingWidth: padding, hasBias: bias != nil)
    }

    /// Convolves `[N, H, W, Cin]` to `[N, OH, OW, Cout]` (see `Layer.forward(_:)`); caches the input and its geometry.
    public func forward(_ input: Tensor) -> Tensor {
        let g = geometry(for: input)
        cachedInput = input
        cachedGeometry = g
        return conv2dForward(input, weight: weight.value, bias: bias?.value, geometry: g)
    }

    /// The full backward, `backward(_:needsInputGradient: true)` (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    /// With `needsInputGradient == false` only the parameter gradients are computed (no backward-data
    /// convolution) and zeros of the input's shape are returned.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        let input = cached(cachedInput, "Conv2D"), g = cached(cachedGeometry, "Conv2D")
        let needsWeight = weight.requiresGradient, needsBias = bias?.requiresGradient ?? false
        if needsWeight || needsBias {
            // oneDNN computes dW and db together; a frozen one is computed into scratch and dropped.
            var scratchWeight = needsWeight ? Tensor(zeros: [0]) : Tensor(zeros: g.weightShape)
            var biasGradient: Tensor? = bias.map { needsBias ? $0.gradient : Tensor(zeros: [outputChannels]) }
            if needsWeight {
                conv2dBackwardParameters(input: input, outputGradient: outputGradient, geometry: g,
                                         weightGradient: &weight.gradient, biasGradient: &biasGradient)
            } else {
                conv2dBackwardParameters(input: input, outputGradient: outputGradient, geometry: g,
                                         weightGradient: &scratchWeight, biasGradient: &biasGradient)
            }
            if needsBias, let bias, let biasGradient { bias.gradient = biasGradient }
        }
        guard needsInputGradient else { return Tensor(zeros: g.inputShape) }
        return conv2dBackwardInput(outputGradient, weight: weight.value, geometry: g)
    }
}
