import CloakTensor
/// Updates parameters from their accumulated gradients.
///
/// Optimisers keep per-parameter state (momentum, Adam moments) keyed by the parameter's dotted name, so
/// pass the same named list (`model.parameters`) on every step. Frozen parameters (`requiresGradient == false`)
/// are skipped. Optimisers do not clear gradients; call `zeroGradients()` on the model.
public protocol Optimizer: AnyObject {
    /// The step size used by the next `step(_:)`; schedules set it.
    var learningRate: Float { get set }
    /// Applies one update to every trainable parameter.
    func step(_ parameters: [(name: String, parameter: Parameter)])
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm`, as PyTorch's `clip_grad_norm_`
/// (`coefficient = maxNorm / (norm + 1e-6)`, applied only when below 1). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [(name: String, parameter: Parameter)], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "maxNorm must be positive")
    let trainable = parameters.map(\.parameter).filter(\.requiresGradient)
    let norm = Float(trainable.reduce(0.0) { $0 + squaredNorm($1.gradient) }.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for p in trainable { p.gradient = scaled(p.gradient, by: coefficient) }
    }
    return norm
}
