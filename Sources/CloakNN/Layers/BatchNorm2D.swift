/// Batch normalisation over the channel axis (the innermost one): NHWC `[N, H, W, C]` or `[N, C]`.
///
/// Training: `y = γ · (x − μ_B) / √(σ²_B + ε) + β` with the batch mean and biased batch variance over all
/// positions of a channel; running statistics are updated as PyTorch does
/// (`running = (1 − momentum) · running + momentum · batch`, with the *unbiased* variance).
/// Inference: the running statistics replace the batch ones.
/// Parameters `weight` (γ, ones) and `bias` (β, zeros); buffers `running_mean` (zeros), `running_var` (ones).
public final class BatchNorm2D: Layer {
    public let featureCount: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVariance: Buffer
    public private(set) var isTraining = true

    /// Forward cache for `backward`: the input and what the kernel saved (statistics used, ReLU mask).
    private var cachedInput: Tensor?
    private var cachedState: BatchNormalizationState?

    public init(featureCount: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        precondition(featureCount > 0, "BatchNorm2D needs a positive feature count")
        self.featureCount = featureCount
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(Tensor(repeating: 1, shape: [featureCount]))
        bias = Parameter(Tensor(zeros: [featureCount]))
        runningMean = Buffer(Tensor(zeros: [featureCount]))
        runningVariance = Buffer(Tensor(repeating: 1, shape: [featureCount]))
    }

    public var localParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    public var localBuffers: [(name: String, buffer: Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVariance)]
    }
    public func setTraining(_ isTraining: Bool) { self.isTraining = isTraining }

    public func forward(_ input: Tensor) -> Tensor {
        forward(input, fusingReLU: false)
    }

    /// `max(batchNorm(x), 0)` in one kernel (the same result as this layer followed by `ReLU`, faster).
    /// The following `backward(_:)` then takes dL/d(ReLU output) and differentiates through both.
    /// `Sequential` uses it for every `BatchNorm2D` directly followed by a `ReLU`.
    public func forward(_ input: Tensor, fusingReLU: Bool) -> Tensor {
        precondition(input.shape.last == featureCount,
                     "BatchNorm2D expects \(featureCount) channels innermost, got \(input.shape)")
        let rows = input.count / featureCount
        if isTraining {
            precondition(rows > 1, "BatchNorm2D in training needs more than one value per channel")
        }
        let running = isTraining ? nil : (mean: runningMean.value, variance: runningVariance.value)
        let (y, state) = batchNormalizationForward(input, scale: weight.value, shift: bias.value, epsilon: epsilon,
                                                   runningStatistics: running, fusingReLU: fusingReLU)
        if isTraining {
            // PyTorch: running = (1 − momentum) · running + momentum · batch, with the unbiased variance.
            let unbiased = Float(rows) / Float(rows - 1)
            state.mean.withUnsafeBufferPointer { mean in
                runningMean.value.withUnsafeMutableBufferPointer { rm in
                    for c in 0..<featureCount { rm[c] = (1 - momentum) * rm[c] + momentum * mean[c] }
                }
            }
            state.variance.withUnsafeBufferPointer { variance in
                runningVariance.value.withUnsafeMutableBufferPointer { rv in
                    for c in 0..<featureCount { rv[c] = (1 - momentum) * rv[c] + momentum * variance[c] * unbiased }
                }
            }
        }
        cachedInput = input
        cachedState = state
        return y
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let input = cached(cachedInput, "BatchNorm2D"), state = cached(cachedState, "BatchNorm2D")
        let needsWeight = weight.requiresGradient, needsBias = bias.requiresGradient
        let (dx, dGamma, dBeta) = batchNormalizationBackward(
            outputGradient: outputGradient, input: input, scale: weight.value, state: state,
            parameterGradients: needsWeight || needsBias)
        if needsWeight, let dGamma { accumulate(dGamma, into: &weight.gradient) }
        if needsBias, let dBeta { accumulate(dBeta, into: &bias.gradient) }
        return dx
    }
}
