import CloakTensor

/// Fully connected layer `y = x · Wᵀ + b`, on oneDNN's sgemm.
///
/// Input `[N, inputCount]` → output `[N, outputCount]`. Parameters `weight` `[outputCount, inputCount]`
/// (PyTorch layout) and optional `bias` `[outputCount]`, initialised as PyTorch's defaults.
public final class Linear: Layer {
    /// Input features per example.
    public let inputCount: Int
    /// Output features per example.
    public let outputCount: Int
    /// `W`, `[outputCount, inputCount]` (PyTorch layout), Kaiming-uniform initialised with bound 1/√inputCount.
    public let weight: Parameter
    /// `b`, `[outputCount]`, U(−1/√inputCount, 1/√inputCount), or `nil` when created with `bias: false`.
    public let bias: Parameter?

    /// Forward cache for `backward`: the input (needed for the weight gradient).
    private var cachedInput: Tensor?

    /// Creates a linear layer initialised as PyTorch's `nn.Linear`: the weight, then the bias (if `bias`), drawn from
    /// `generator`.
    public init(inputCount: Int, outputCount: Int, bias: Bool = true, using generator: inout some RandomNumberGenerator) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        weight = Parameter(Initialization.kaimingUniform(shape: [outputCount, inputCount], fanIn: inputCount,
                                                         using: &generator))
        self.bias = bias ? Parameter(Initialization.defaultBias(count: outputCount, fanIn: inputCount, using: &generator)) : nil
    }

    /// `weight`, and `bias` if present.
    public var localParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Maps `[N, inputCount]` to `[N, outputCount]` (see `Layer.forward(_:)`); caches the input (for dL/dW).
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.count == 2 && input.shape[1] == inputCount,
                     "Linear expects [N, \(inputCount)], got \(input.shape)")
        cachedInput = input
        let y = matrixMultiply(input, weight.value, transposeB: true)
        guard let bias else { return y }
        return channelAffine(y, scale: [Float](repeating: 1, count: outputCount), shift: bias.value.scalars)
    }

    /// Returns dL/dx = dL/dy · W and adds dL/dyᵀ · x to the weight gradient and the column sums of dL/dy to the
    /// bias gradient, for unfrozen parameters (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let input = cached(cachedInput, "Linear")
        if weight.requiresGradient {
            // dW += dyᵀ · x  (beta = 1 accumulates)
            matrixMultiply(outputGradient, transposeA: true, input, beta: 1, into: &weight.gradient)
        }
        if let bias, bias.requiresGradient {
            accumulate(Tensor(shape: [outputCount], scalars: channelSums(outputGradient)), into: &bias.gradient)
        }
        return matrixMultiply(outputGradient, weight.value)
    }
}
