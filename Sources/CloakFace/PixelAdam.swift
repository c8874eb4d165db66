import Foundation

/// Adam (Kingma and Ba 2015) on a flat array of pixel values, for the cloak's perturbation.
///
/// `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`, `x -= lr · m̂ / (√v̂ + ε)` with bias-corrected
/// `m̂ = m / (1 - β1^t)`, `v̂ = v / (1 - β2^t)`; β1 0.9, β2 0.99 (not Adam's usual 0.999: the cloak runs 25 to
/// 100 steps, and the second moment must follow a gradient that changes as the face moves), ε 1e-8. In pixel units,
/// the first step moves every value by about `lr`.
struct AdamState {
    /// Step size; may change between steps (a schedule).
    var learningRate: Float
    let beta1: Float = 0.9, beta2: Float = 0.99, epsilon: Float = 1e-8
    private var m: [Float]
    private var v: [Float]
    private var t = 0

    init(count: Int, learningRate: Float) {
        self.learningRate = learningRate
        m = [Float](repeating: 0, count: count)
        v = m
    }

    /// One descent step on `values` (minimises the loss whose gradient is `gradient`).
    mutating func step(_ values: inout [Float], gradient: [Float]) {
        precondition(values.count == m.count && gradient.count == m.count, "AdamState: size mismatch")
        t += 1
        let c1 = 1 - pow(beta1, Float(t)), c2 = 1 - pow(beta2, Float(t))
        for i in values.indices {
            let g = gradient[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            values[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
