import CloakTensor

/// A differentiable building block with its forward and backward pass side by side.
///
/// ## Layout
/// Image-like activations are NHWC `[N, H, W, C]`; feature vectors are `[N, F]` (see `Tensor`).
///
/// ## Gradient contract
/// - `forward(_:)` computes the output and caches exactly what `backward(_:)` needs (named private properties).
/// - `backward(_:)` **requires** a preceding `forward(_:)`, takes dL/dy with the output's shape and
///   **returns** dL/dx with the input's shape.
/// - `backward(_:)` **adds** dL/dθ into `gradient` of every parameter θ whose `requiresGradient` is true, and
///   skips the weight-gradient work entirely for frozen parameters (input-gradient-only mode, used by PGD and
///   cloak optimisation). `zeroGradients()` clears the accumulated gradients.
/// - Training mode (`setTraining(_:)`) only changes layers with batch-dependent behaviour (batch norm).
public protocol Layer: AnyObject {
    /// Computes the output and caches what `backward(_:)` needs.
    func forward(_ input: Tensor) -> Tensor
    /// Returns dL/dx and accumulates parameter gradients (see the gradient contract above).
    func backward(_ outputGradient: Tensor) -> Tensor
    /// As `backward(_:)`, but with `needsInputGradient == false` the caller promises not to use the returned
    /// dL/dx (the input is data, as in a training step), so layers may skip computing it and return zeros of the
    /// input's shape instead. Parameter gradients are accumulated exactly as by `backward(_:)`.
    /// The default calls `backward(_:)`; `Conv2D`, `Sequential` and the models skip the work.
    func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor
    /// This layer's own trainable parameters under local names (`weight`, `bias`).
    var localParameters: [(name: String, parameter: Parameter)] { get }
    /// This layer's own non-trainable state under local names (`running_mean`, `running_var`).
    var localBuffers: [(name: String, buffer: Buffer)] { get }
    /// Sublayers under local names; their parameters get dotted names (`block1.0.weight`).
    var children: [(name: String, layer: any Layer)] { get }
    /// Switches between training (batch statistics) and inference (running statistics) for this layer and
    /// every sublayer.
    func setTraining(_ isTraining: Bool)
}

extension Layer {
    /// Default: no parameters.
    public var localParameters: [(name: String, parameter: Parameter)] { [] }
    /// Default: no buffers.
    public var localBuffers: [(name: String, buffer: Buffer)] { [] }
    /// Default: no sublayers.
    public var children: [(name: String, layer: any Layer)] { [] }
    /// Default: passes the mode on to every sublayer (`BatchNorm2D` overrides it to record the mode).
    public func setTraining(_ isTraining: Bool) {
        for child in children { child.layer.setTraining(isTraining) }
    }

    /// Default: ignores `needsInputGradient` and calls `backward(_:)`, so dL/dx is always computed.
    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool) -> Tensor {
        backward(outputGradient)
    }

    /// Calls `forward(_:)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    /// Every parameter of this layer and its sublayers, in definition order, under dotted PyTorch-style names.
    public var parameters: [(name: String, parameter: Parameter)] {
        localParameters + children.flatMap { child in
            child.layer.parameters.map { (child.name + "." + $0.name, $0.parameter) }
        }
    }

    /// Every buffer of this layer and its sublayers under dotted names.
    public var buffers: [(name: String, buffer: Buffer)] {
        localBuffers + children.flatMap { child in
            child.layer.buffers.map { (child.name + "." + $0.name, $0.buffer) }
        }
    }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() {
        for (_, p) in parameters { p.zeroGradient() }
    }

    /// Freezes (`false`) or unfreezes (`true`) every parameter. With all parameters frozen, `backward` only
    /// computes the input gradient: no parameter gradient is touched and no weight-gradient kernel runs.
    public func setRequiresGradient(_ requiresGradient: Bool) {
        for (_, p) in parameters { p.requiresGradient = requiresGradient }
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.parameter.value.count } }
}

/// A trainable tensor and its accumulated gradient.
public final class Parameter {
    /// The current value.
    public var value: Tensor
    /// dL/dvalue, accumulated by `backward` since the last `zeroGradient()`.
    public var gradient: Tensor
    /// When false the parameter is frozen: layers skip its gradient and optimisers skip its update.
    public var requiresGradient: Bool = true

    /// Wraps `value` with a zero gradient of the same shape; the parameter starts trainable.
    public init(_ value: Tensor) {
        self.value = value
        self.gradient = Tensor(zeros: value.shape)
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        gradient.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = 0 }
        }
    }
}

/// Non-trainable state that is saved with the weights (batch-norm running statistics).
public final class Buffer {
    /// The current value; the owning layer updates it, and checkpoints save and restore it.
    public var value: Tensor
    /// Wraps `value`.
    public init(_ value: Tensor) { self.value = value }
}

/// Precondition helper: the cached forward state a `backward` call needs.
@inline(__always)
func cached<T>(_ value: T?, _ layer: String) -> T {
    guard let value else { preconditionFailure("\(layer).backward called before forward") }
    return value
}
