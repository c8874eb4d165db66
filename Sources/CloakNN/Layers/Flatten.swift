import CloakTensor

/// `[N, d1, d2, ...]` → `[N, d1·d2·...]`, keeping the element order. For NHWC input the features are ordered
/// (h, w, c), unlike PyTorch's NCHW flatten (c, h, w): a linear layer after a non-global flatten imported from
/// PyTorch needs its input columns permuted. No parameters.
public final class Flatten: Layer {
    /// Forward cache for `backward`: the input shape.
    private var cachedShape: [Int]?

    /// Creates a flatten layer.
    public init() {}

    /// Reshapes `[N, ...]` to `[N, F]` without copying the elements (see `Layer.forward(_:)`); caches the input shape.
    public func forward(_ input: Tensor) -> Tensor {
        precondition(!input.shape.isEmpty, "Flatten needs a batch axis")
        cachedShape = input.shape
        return input.reshaped([input.shape[0], input.count / max(input.shape[0], 1)])
    }

    /// Reshapes dL/dy back to the input's shape (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        outputGradient.reshaped(cached(cachedShape, "Flatten"))
    }
}
