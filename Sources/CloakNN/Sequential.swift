import CloakTensor

/// Layers applied one after another; backward runs them in reverse.
///
/// A `BatchNorm2D` directly followed by a `ReLU` runs as one fused kernel (`BatchNorm2D.forward(_:fusingReLU:)`)
/// in both directions; the result is the same as running them one by one.
public final class Sequential: Layer {
    /// The layers in order, under their names (`0`, `1`, ... or explicit ones).
    public let children: [(name: String, layer: any Layer)]
    /// Indices of the batch norms that the last `forward` fused with the ReLU after them.
    private var fusedBatchNorms: Set<Int> = []

    /// Layers named `0`, `1`, ... as PyTorch's `nn.Sequential`.
    public init(_ layers: [any Layer]) {
        children = layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// Layers with explicit names (for PyTorch-compatible parameter names such as `out_conv`).
    public init(named layers: [(name: String, layer: any Layer)]) {
        children = layers
    }

    /// Runs the layers in order, fusing each `BatchNorm2D` directly followed by a `ReLU` (see `Layer.forward(_:)`);
    /// the layers cache their own state and this one records which batch norms were fused.
    public func forward(_ input: Tensor) -> Tensor {
        var x = input
        var fused: Set<Int> = []
        var i = 0
        while i < children.count {
            if let bn = children[i].layer as? BatchNorm2D, i + 1 < children.count, children[i + 1].layer is ReLU {
                x = bn.forward(x, fusingReLU: true)
                fused.insert(i)
                i += 2
            } else {
                x = children[i].layer.forward(x)
                i += 1
            }
        }
        fusedBatchNorms = fused
        return x
    }

    /// The full backward, `backward(_:needsInputGradient: true)` (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(outputGradient, needsInputGradient: true)
    }

    /// The first layer gets `needsInputGradient`; the others always compute their input gradient.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        var g = outputGradient
        for i in children.indices.reversed() {
            if i > 0 && fusedBatchNorms.contains(i - 1) { continue }  // this ReLU ran inside the batch norm
            g = i == 0 ? children[i].layer.backward(g, needsInputGradient: needsInputGradient)
                : children[i].layer.backward(g)
        }
        return g
    }
}
