import CloakNN
import CloakTensor

/// Which way the steps of ``projectedGradientSteps(model:clean:labels:epsilon:stepSize:steps:direction:using:)`` go.
enum GradientDirection {
    /// Up the cross-entropy of the given (true) labels: adversarial examples (PGD, Madry et al., ICLR 2018).
    case ascent
    /// Down the cross-entropy of the given (target) labels: the images pulled toward those classes.
    case descent
}

/// Projected signed-gradient steps on the cross-entropy within an L-inf ball around `clean` (NHWC in [0, 1]).
///
/// The model is put in inference mode with its parameters frozen (and unfrozen after). The walk starts from a
/// uniform random point in the ball (clamped to [0, 1]) and takes `steps` steps of `stepSize` along the sign of
/// the gradient, each projected back to the ball and to [0, 1]. Returns the end point, shaped as `clean`.
func projectedGradientSteps(model: any Layer, clean: Tensor, labels: [Int], epsilon: Float, stepSize: Float, steps: Int,
                            direction: GradientDirection, using generator: inout SplitMix64) -> Tensor {
    model.setTraining(false)
    model.setRequiresGradient(false)
    defer { model.setRequiresGradient(true) }
    let x = clean.scalars
    let step = direction == .ascent ? stepSize : -stepSize
    var moved = x.map { v in min(1, max(0, v + Float.random(in: -epsilon...epsilon, using: &generator))) }
    for _ in 0..<steps {
        let logits = model(Tensor(shape: clean.shape, scalars: moved))
        let g = model.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient).scalars
        for j in moved.indices {
            let stepped = moved[j] + (g[j] > 0 ? step : (g[j] < 0 ? -step : 0))
            moved[j] = min(1, max(0, x[j] + min(epsilon, max(-epsilon, stepped - x[j]))))
        }
    }
    return Tensor(shape: clean.shape, scalars: moved)
}
