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

    /// Forward cache for `backward`: the input and the per-channel mean and 1/σ that normalised it,
    /// and whether they were batch statistics.
    private var cachedInput: Tensor?
    private var cachedMean: [Float] = []
    private var cachedInverseStd: [Float] = []
    private var cachedUsedBatchStatistics = true

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
        precondition(input.shape.last == featureCount,
                     "BatchNorm2D expects \(featureCount) channels innermost, got \(input.shape)")
        let rows = input.count / featureCount
        var mean: [Float], variance: [Float]
        if isTraining {
            precondition(rows > 1, "BatchNorm2D in training needs more than one value per channel")
            mean = channelSums(input).map { $0 / Float(rows) }
            variance = channelSquaredDeviations(input, mean: mean).map { $0 / Float(rows) }
            let unbiased = Float(rows) / Float(rows - 1)
            runningMean.value.withUnsafeMutableBufferPointer { rm in
                for c in 0..<featureCount { rm[c] = (1 - momentum) * rm[c] + momentum * mean[c] }
            }
            runningVariance.value.withUnsafeMutableBufferPointer { rv in
                for c in 0..<featureCount { rv[c] = (1 - momentum) * rv[c] + momentum * variance[c] * unbiased }
            }
        } else {
            mean = runningMean.value.scalars
            variance = runningVariance.value.scalars
        }
        let inverseStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
        let gamma = weight.value.scalars, beta = bias.value.scalars
        let scale = (0..<featureCount).map { gamma[$0] * inverseStd[$0] }
        let shift = (0..<featureCount).map { beta[$0] - mean[$0] * scale[$0] }
        cachedInput = input
        cachedMean = mean
        cachedInverseStd = inverseStd
        cachedUsedBatchStatistics = isTraining
        return channelAffine(input, scale: scale, shift: shift)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let input = cached(cachedInput, "BatchNorm2D")
        let (mean, inverseStd) = (cachedMean, cachedInverseStd)
        let rows = Float(input.count / featureCount)
        let gamma = weight.value.scalars
        // Σ dy and Σ dy·x̂ per channel, with x̂ = (x − μ)/σ:  Σ dy·x̂ = (Σ dy·x − μ Σ dy) / σ.
        let sumDy = channelSums(outputGradient)
        let sumDyX = channelSums(outputGradient, times: input)
        let sumDyXhat = (0..<featureCount).map { (sumDyX[$0] - mean[$0] * sumDy[$0]) * inverseStd[$0] }
        if weight.requiresGradient {
            weight.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<featureCount { g[c] += sumDyXhat[c] } }
        }
        if bias.requiresGradient {
            bias.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<featureCount { g[c] += sumDy[c] } }
        }
        let k1 = (0..<featureCount).map { gamma[$0] * inverseStd[$0] }
        guard cachedUsedBatchStatistics else {
            // Running statistics are constants: y is a per-channel affine map of x.
            return channelAffine(outputGradient, scale: k1, shift: [Float](repeating: 0, count: featureCount))
        }
        // dx = k1·(dy − Σdy/M − x̂·Σdy·x̂/M), rewritten as dy·k1 + x·k2 + k3.
        let k2 = (0..<featureCount).map { -k1[$0] * inverseStd[$0] * sumDyXhat[$0] / rows }
        let k3 = (0..<featureCount).map { -k1[$0] * sumDy[$0] / rows - k2[$0] * mean[$0] }
        return channelLinearCombination(outputGradient, k1, input, k2, k3)
    }
}
