/// Adam with L2 weight decay, exactly as PyTorch's `torch.optim.Adam` (amsgrad off):
///
/// ```
/// g = ∇θ + weightDecay · θ
/// m = β1 · m + (1 − β1) · g          v = β2 · v + (1 − β2) · g²
/// θ = θ − learningRate · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
/// ```
/// Reference: https://pytorch.org/docs/stable/generated/torch.optim.Adam.html
public final class Adam: Optimizer {
    /// The step size (see `Optimizer.learningRate`).
    public var learningRate: Float
    /// Decay rate β1 of the first-moment (mean) estimate.
    public let beta1: Float
    /// Decay rate β2 of the second-moment (uncentred variance) estimate.
    public let beta2: Float
    /// ε added to the denominator for numerical stability.
    public let epsilon: Float
    /// L2 penalty added to the gradient (coupled, as PyTorch's `Adam`; not AdamW's decoupled decay).
    public let weightDecay: Float
    /// First and second moments and the step count, keyed by parameter name.
    private var moments: [String: (m: [Float], v: [Float], step: Int)] = [:]

    /// Creates an optimiser with PyTorch's defaults; each parameter's moments start at zero on its first step.
    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0) {
        precondition(learningRate >= 0, "Learning rate must be non-negative")
        precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam betas must be in [0, 1)")
        precondition(epsilon > 0 && weightDecay >= 0, "Adam epsilon must be positive and weight decay non-negative")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Applies one Adam update to every parameter with `requiresGradient` (see `Optimizer.step(_:)`).
    public func step(_ parameters: [(name: String, parameter: Parameter)]) {
        for (name, p) in parameters where p.requiresGradient {
            var state = moments.removeValue(forKey: name)
                ?? ([Float](repeating: 0, count: p.value.count), [Float](repeating: 0, count: p.value.count), 0)
            state.step += 1
            let correction1 = 1 - powf(beta1, Float(state.step)), correction2 = 1 - powf(beta2, Float(state.step))
            let stepSize = learningRate / correction1
            let g = p.gradient.scalars
            p.value.withUnsafeMutableBufferPointer { theta in
                for i in 0..<theta.count {
                    let gi = g[i] + weightDecay * theta[i]
                    state.m[i] = beta1 * state.m[i] + (1 - beta1) * gi
                    state.v[i] = beta2 * state.v[i] + (1 - beta2) * gi * gi
                    theta[i] -= stepSize * state.m[i] / ((state.v[i] / correction2).squareRoot() + epsilon)
                }
            }
            moments[name] = state
        }
    }
}

#if canImport(Glibc)
import CloakTensor
import Glibc
#else
import Darwin
#endif
