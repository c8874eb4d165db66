import CloakTensor

/// Per-channel affine map `y[..., c] = x[..., c] · weight[c] + bias[c]` over the innermost (channel) axis.
///
/// This is dlib's `affine` layer (a batch norm frozen into a scale and shift), used by its face descriptor.
/// Input and output NHWC `[N, H, W, C]` or `[N, C]`. Parameters `weight` (ones) and `bias` (zeros), `[C]`.
public final class Affine: Layer {
    /// The number of channels `C` (the innermost axis).
    public let featureCount: Int
    /// Per-channel scale `[C]`, initialised to ones.
    public let weight: Parameter
    /// Per-channel shift `[C]`, initialised to zeros.
    public let bias: Parameter

    /// Forward cache for `backward`: the input (needed for the weight gradient).
    private var cachedInput: Tensor?

    /// Creates the identity map over `featureCount` channels (weight ones, bias zeros).
    public init(featureCount: Int) {
        self.featureCount = featureCount
        weight = Parameter(Tensor(repeating: 1, shape: [featureCount]))
        bias = Parameter(Tensor(zeros: [featureCount]))
    }

    /// `weight` and `bias`.
    public var localParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    /// Applies the per-channel map (see `Layer.forward(_:)`); caches the input for the weight gradient.
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.last == featureCount, "Affine expects \(featureCount) channels, got \(input.shape)")
        cachedInput = input
        return channelAffine(input, scale: weight.value.scalars, shift: bias.value.scalars)
    }

    /// Returns dL/dx = dL/dy · weight and adds the per-channel sums of dL/dy · x and dL/dy to the weight and bias
    /// gradients of unfrozen parameters (see the `Layer` gradient contract).
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
