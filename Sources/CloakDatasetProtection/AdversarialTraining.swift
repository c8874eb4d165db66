import CloakNN
import CloakTensor

/// PGD adversarial training (Madry et al., ICLR 2018), the strongest known countermeasure to
/// error-minimising noise: every batch is replaced by its worst case within an L-inf ball before the
/// training step. The attack starts from a uniform random point in the ball and takes `steps` signed
/// gradient *ascent* steps on the cross-entropy, with the model in inference mode and its parameters
/// frozen (as the Unlearnable Examples reference's `madrys` configuration).
struct AdversarialTraining {
    let model: any Layer
    let optimizer: SGD
    let configuration: TrainingConfiguration
    let epsilon: Float
    let stepSize: Float
    let steps: Int

    func fit(_ data: LabelledImages, evaluatingOn test: LabelledImages, epochs: Range<Int>, using generator: inout SplitMix64,
             onEpoch: (EpochSummary) -> Void, savingStateAfterEpoch saveState: @escaping (EpochSummary, SplitMix64) -> Void) {
        Trainer(model: model, optimizer: optimizer, configuration: configuration)
            .fit(data, evaluatingOn: test, epochs: epochs, using: &generator, onEpoch: onEpoch, savingStateAfterEpoch: saveState,
                 transformingBatches: { clean, labels, generator in attack(clean, labels: labels, using: &generator) })
    }

    /// The PGD adversarial version of a clean batch (NHWC in [0, 1]).
    func attack(_ clean: Tensor, labels: [Int], using generator: inout SplitMix64) -> Tensor {
        ProjectedGradient(epsilon: epsilon, stepSize: stepSize, steps: steps, direction: .ascent)
            .walk(model: model, clean: clean, labels: labels, using: &generator)
    }
}
