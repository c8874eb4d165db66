import CloakTensor

/// Stochastic gradient descent with momentum, weight decay and optional Nesterov momentum, exactly as
/// PyTorch's `torch.optim.SGD` (dampening 0):
///
/// ```
/// g = ∇θ + weightDecay · θ
/// b = g                      (first step)      b = momentum · b + g   (later steps)
/// d = g + momentum · b       (Nesterov)        d = b                  (otherwise; d = g without momentum)
/// θ = θ − learningRate · d
/// ```
/// Reference: https://pytorch.org/docs/stable/generated/torch.optim.SGD.html
public final class SGD: Optimizer {
    /// The step size (see `Optimizer.learningRate`).
    public var learningRate: Float
    /// Momentum factor (0: plain SGD, no buffers).
    public let momentum: Float
    /// L2 penalty added to the gradient.
    public let weightDecay: Float
    /// Whether to use Nesterov momentum (requires `momentum > 0`).
    public let nesterov: Bool
    /// Momentum buffers keyed by parameter name (readable and settable so a resumable job can save and
    /// restore the optimiser's state exactly).
    public var momentumBuffers: [String: Tensor] = [:]

    /// Creates an optimiser; each parameter's momentum buffer is created on its first step.
    public init(learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(learningRate >= 0, "Learning rate must be non-negative")
        precondition(momentum >= 0, "Momentum must be non-negative")
        precondition(weightDecay >= 0, "Weight decay must be non-negative")
        precondition(!nesterov || momentum > 0, "Nesterov momentum requires a positive momentum")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// Applies one SGD update to every parameter with `requiresGradient` (see `Optimizer.step(_:)`).
    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        for (name, p) in parameters where p.requiresGradient {
            var g = p.gradient
            if weightDecay != 0 { accumulate(p.value, scaledBy: weightDecay, into: &g) }
            if momentum != 0 {
                var buffer: Tensor
                if let previous = momentumBuffers.removeValue(forKey: name) {
                    buffer = scaled(previous, by: momentum)
                    accumulate(g, into: &buffer)
                } else {
                    buffer = g
                }
                if nesterov {
                    accumulate(buffer, scaledBy: momentum, into: &g)
                } else {
                    g = buffer
                }
                momentumBuffers[name] = buffer
            }
            accumulate(g, scaledBy: -learningRate, into: &p.value)
        }
    }
}
