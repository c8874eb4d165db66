import CloakTensor

/// `y = max(x, 0)` elementwise; any shape. No parameters.
public final class ReLU: Layer {
    /// Forward cache for `backward`: the output (its sign pattern is the derivative).
    private var cachedOutput: Tensor?

    /// Creates a ReLU.
    public init() {}

    /// Computes `max(x, 0)` (see `Layer.forward(_:)`); caches the output.
    public func forward(_ input: Tensor) -> Tensor {
        let y = relu(input)
        cachedOutput = y
        return y
    }

    /// Returns dL/dy · [y > 0] (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        reluBackward(outputGradient: outputGradient, output: cached(cachedOutput, "ReLU"))
    }
}
