import CloakDatasetProtection
import CloakNN
import CloakTensor
import Testing

/// The one projected-gradient routine that error-minimising noise, the targeted poison and adversarial training use.
@Suite("Projected gradient walks")
struct ProjectedGradientTests {
    /// A small fixed model and batch: 6 grey 8x8 images, 2 classes.
    func problem() -> (model: any Layer, clean: Tensor, labels: [Int]) {
        var g = SplitMix64(seed: 4)
        let model = SmallCNN(inputChannels: 1, classCount: 2, widths: [4, 4, 4], using: &g)
        let pixels = (0..<(6 * 64)).map { i in Float((i * 7919) % 101) / 100 }
        return (model, Tensor(shape: [6, 8, 8, 1], scalars: pixels), [0, 1, 0, 1, 0, 1])
    }

    func loss(_ model: any Layer, _ x: Tensor, _ labels: [Int]) -> Float {
        model.setTraining(false)
        return softmaxCrossEntropy(logits: model(x), labels: labels).loss
    }

    @Test(arguments: [ProjectedGradient.Direction.ascent, .descent])
    func theWalkStaysInTheBallAndInThePixelRangeAndGoesItsWay(_ direction: ProjectedGradient.Direction) {
        let (model, clean, labels) = problem()
        let eps: Float = 8 / 255
        var g = SplitMix64(seed: 9)
        let moved = ProjectedGradient(epsilon: eps, stepSize: 2 / 255, steps: 5, direction: direction)
            .walk(model: model, clean: clean, labels: labels, using: &g)
        #expect(moved.shape == clean.shape)
        #expect(zip(moved.scalars, clean.scalars).allSatisfy { abs($0 - $1) <= eps * (1 + 1e-6) && $0 >= 0 && $0 <= 1 })
        let before = loss(model, clean, labels), after = loss(model, moved, labels)
        #expect(direction == .ascent ? after > before : after < before, "loss \(before) -> \(after)")
        // Seeded: the same generator state gives the same walk
        var h = SplitMix64(seed: 9)
        #expect(ProjectedGradient(epsilon: eps, stepSize: 2 / 255, steps: 5, direction: direction)
            .walk(model: model, clean: clean, labels: labels, using: &h).scalars == moved.scalars)
    }

    /// From a given start, the last step's offsets are the projected ones, before the image is clamped to [0, 1]: where
    /// no pixel is clamped they equal the moved image minus the clean one.
    @Test func theOffsetsAreTheProjectionBeforeThePixelClamp() {
        let (model, clean, labels) = problem()
        let walk = ProjectedGradient(epsilon: 0.1, stepSize: 0.05, steps: 3, direction: .descent)
            .walk(model: model, clean: clean.scalars, from: clean.scalars, shape: clean.shape, labels: labels)
        for (j, (x, m)) in zip(clean.scalars, walk.images).enumerated() {
            #expect(abs(walk.offsets[j]) <= 0.1 + 1e-6)
            if x + walk.offsets[j] > 0 && x + walk.offsets[j] < 1 { #expect(abs(m - x - walk.offsets[j]) < 1e-6) }
            else { #expect(m == 0 || m == 1) }
        }
        #expect(walk.offsets.contains { $0 != 0 })
    }
}
