/// Per-channel affine map `y[..., c] = x[..., c] · weight[c] + bias[c]` over the innermost (channel) axis.
///
/// This is dlib's `affine` layer (a batch norm frozen into a scale and shift), used by its face descriptor.
/// Input and output NHWC `[N, H, W, C]` or `[N, C]`. Parameters `weight` (ones) and `bias` (zeros), `[C]`.
public final class Affine: Layer {
    public let featureCount: Int
    public let weight: Parameter
    public let bias: Parameter

    /// Forward cache for `backward`: the input (needed for the weight gradient).
    private var cachedInput: Tensor?

    public init(featureCount: Int) {
        self.featureCount = featureCount
        weight = Parameter(Tensor(repeating: 1, shape: [featureCount]))
        bias = Parameter(Tensor(zeros: [featureCount]))
    }

    public var localParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == featureCount, "Affine expects \(featureCount) channels, got \(input.shape)")
        cachedInput = input
        return channelAffine(input, scale: weight.value.scalars, shift: bias.value.scalars)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let input = cached(cachedInput, "Affine")
        if weight.requiresGradient {
            let s = channelSums(outputGradient, times: input)
            weight.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<featureCount { g[c] += s[c] } }
        }
        if bias.requiresGradient {
            let s = channelSums(outputGradient)
            bias.gradient.withUnsafeMutableBufferPointer { g in for c in 0..<featureCount { g[c] += s[c] } }
        }
        return channelAffine(outputGradient, scale: weight.value.scalars,
                             shift: [Float](repeating: 0, count: featureCount))
    }
}
