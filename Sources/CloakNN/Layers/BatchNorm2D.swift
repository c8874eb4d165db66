import CloakTensor

/// Batch normalisation over the channel axis (the innermost one): NHWC `[N, H, W, C]` or `[N, C]`.
///
/// Training: `y = γ · (x − μ_B) / √(σ²_B + ε) + β` with the batch mean and biased batch variance over all
/// positions of a channel; running statistics are updated as PyTorch does
/// (`running = (1 − momentum) · running + momentum · batch`, with the *unbiased* variance).
/// Inference: the running statistics replace the batch ones.
/// Parameters `weight` (γ, ones) and `bias` (β, zeros); buffers `running_mean` (zeros), `running_var` (ones).
public final class BatchNorm2D: Layer {
    /// The number of channels `C` (the innermost axis).
    public let featureCount: Int
    /// ε added to the variance before the square root (default 1e-5, as PyTorch).
    public let epsilon: Float
    /// Weight of the current batch in the running-statistics update (PyTorch convention, default 0.1):
    /// `running = (1 − momentum) · running + momentum · batch`. Note that Keras uses the opposite convention.
    public let momentum: Float
    /// γ, the per-channel scale `[C]`, initialised to ones.
    public let weight: Parameter
    /// β, the per-channel shift `[C]`, initialised to zeros.
    public let bias: Parameter
    /// Running mean `[C]` (buffer `running_mean`, initially zeros): updated with `momentum` by every forward in
    /// training mode and used instead of the batch mean in inference mode.
    public let runningMean: Buffer
    /// Running variance `[C]` (buffer `running_var`, initially ones): updated with `momentum` by every forward
    /// in training mode from the *unbiased* batch variance (biased variance · m/(m − 1), m = values per channel),
    /// and used instead of the batch variance in inference mode.
    public let runningVariance: Buffer
    /// Whether `forward` uses batch statistics and updates the running ones (`true`, the initial mode) or
    /// normalises with the running statistics (`false`). Set by `setTraining(_:)`.
    public private(set) var isTraining = true

    /// Forward cache for `backward`: the input and what the kernel saved (statistics used, ReLU mask).
    private var cachedInput: Tensor?
    private var cachedState: BatchNormalizationState?

    /// Creates a batch norm over `featureCount` channels (γ = 1, β = 0, running mean 0, running variance 1),
    /// in training mode.
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

    /// `weight` (γ) and `bias` (β).
    public var localParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }
    /// `running_mean` and `running_var` (PyTorch's names).
    public var localBuffers: [(name: String, buffer: Buffer)] {
        [("running_mean", runningMean), ("running_var", runningVariance)]
    }
    /// Sets `isTraining` (a batch norm has no sublayers).
    public func setTraining(_ isTraining: Bool) { self.isTraining = isTraining }

    /// Normalises without a fused ReLU (see `Layer.forward(_:)` and `forward(_:fusingReLU:)`): in training mode
    /// also updates the running statistics; caches the input and the statistics used for backward.
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

    /// Returns dL/dx and adds dL/dγ, dL/dβ to the unfrozen parameters' gradients (see the `Layer` gradient
    /// contract), through the batch statistics if the last forward used them and through its fused ReLU if it had
    /// one. The parameter-gradient reduction is skipped when both parameters are frozen.
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
