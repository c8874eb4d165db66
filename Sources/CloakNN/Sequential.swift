/// Layers applied one after another; backward runs them in reverse.
public final class Sequential: Layer {
    public let children: [(name: String, layer: any Layer)]

    /// Layers named `0`, `1`, ... as PyTorch's `nn.Sequential`.
    public init(_ layers: [any Layer]) {
        children = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Layers with explicit names (for PyTorch-compatible parameter names such as `out_conv`).
    public init(named layers: [(name: String, layer: any Layer)]) {
        children = layers
    }

    public func forward(_ input: Tensor) -> Tensor {
        children.reduce(input) { $1.layer.forward($0) }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        children.reversed().reduce(outputGradient) { $1.layer.backward($0) }
    }
}
