import CloakNN
import CloakTensor

/// Projected signed-gradient steps on the cross-entropy within an L-inf ball: the one routine behind
/// error-minimising noise (descent, from the current noisy images), class-targeted poisoning (descent toward
/// target labels, random start) and PGD adversarial training (ascent on the true labels, random start).
///
/// Each step is `x' ← x' ± α·sign(∇ₓ CE(model(x'), labels))`, then the offset is projected:
/// `η = clamp(x' − x, −ε, ε)` and `x' = clamp(x + η, 0, 1)` (the image, never the offset alone, is clamped to
/// the pixel range). The model is put in inference mode with its parameters frozen for the walk (no
/// weight-gradient work is done) and unfrozen after.
///
/// Layouts: `clean` and `start` are NHWC batches in [0, 1]; the result has their shape.
public struct ProjectedGradient: Sendable {
    /// Which way the steps go.
    public enum Direction: Sendable {
        /// Up the cross-entropy of the given (true) labels: adversarial examples (PGD, Madry et al., ICLR 2018).
        case ascent
        /// Down the cross-entropy of the given labels: error-minimising noise, or images pulled toward target classes.
        case descent
    }

    /// L-inf budget in [0, 1] pixel units.
    public var epsilon: Float
    /// Step size in [0, 1] pixel units.
    public var stepSize: Float
    public var steps: Int
    public var direction: Direction

    public init(epsilon: Float, stepSize: Float, steps: Int, direction: Direction) {
        self.epsilon = epsilon
        self.stepSize = stepSize
        self.steps = steps
        self.direction = direction
    }

    /// The end of the walk: the moved images, and the projected offset `η` of the last step (before the
    /// images were clamped to [0, 1]; equal to `images − clean` wherever no pixel hit 0 or 1).
    public struct Walk {
        public var images: [Float]
        public var offsets: [Float]
    }

    /// Walks from a uniform random point in the ball (clamped to [0, 1]), drawn from `generator` pixel by pixel
    /// in `clean`'s order. Returns the moved images, shaped as `clean`.
    public func walk(model: any Layer, clean: Tensor, labels: [Int], using generator: inout SplitMix64) -> Tensor {
        let eps = epsilon
        let start = clean.scalars.map { v in min(1, max(0, v + Float.random(in: -eps...eps, using: &generator))) }
        return Tensor(shape: clean.shape, scalars: walk(model: model, clean: clean.scalars, from: start,
                                                        shape: clean.shape, labels: labels).images)
    }

    /// Walks from `start` (the same shape as `clean`, already within the ball and [0, 1]).
    public func walk(model: any Layer, clean x: [Float], from start: [Float], shape: [Int], labels: [Int]) -> Walk {
        precondition(x.count == start.count && x.count == shape.reduce(1, *), "clean, start and shape must agree")
        model.setTraining(false)
        model.setRequiresGradient(false)
        defer { model.setRequiresGradient(true) }
        let eps = epsilon
        let step = direction == .ascent ? stepSize : -stepSize
        var moved = start
        var offsets = [Float](repeating: 0, count: x.count)
        for _ in 0..<steps {
            let logits = model(Tensor(shape: shape, scalars: moved))
            let g = model.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient).scalars
            for j in moved.indices {
                let stepped = moved[j] + (g[j] > 0 ? step : (g[j] < 0 ? -step : 0))
                let e = min(eps, max(-eps, stepped - x[j]))
                offsets[j] = e
                moved[j] = min(1, max(0, x[j] + e))
            }
        }
        return Walk(images: moved, offsets: offsets)
    }
}
