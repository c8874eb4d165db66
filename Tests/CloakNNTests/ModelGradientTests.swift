import CloakTensor
import Testing
@testable import CloakNN

@Suite("Models, losses and the two gradient modes")
struct ModelGradientTests {
    @Test("SmallCNN: finite differences through the whole model, parameter names as the reference")
    func smallCNN() {
        var rng = SplitMix64(seed: 40)
        let model = SmallCNN(inputChannels: 2, classCount: 3, widths: [3, 4, 5], using: &rng)
        // ReLU and max-pool kinks (ties at zero after ReLU) make a whole-model check noisier than per-layer ones:
        // a smaller step and a looser tolerance; exactness is checked against PyTorch in GoldenTests.
        // Inference mode, because with batch statistics the conv biases have an exactly-zero gradient
        // (batch norm cancels them), which finite differences can only see as noise.
        model.setTraining(false)
        checkGradients(of: model, input: randomTensor([2, 8, 8, 2], seed: 41), step: 1e-3, tolerance: 2e-2, maxProbes: 24)
        #expect(model.parameters.map(\.name).prefix(4) == [
            "block1.0.out_conv.0.weight", "block1.0.out_conv.0.bias",
            "block1.0.out_conv.1.weight", "block1.0.out_conv.1.bias",
        ])
        #expect(model.parameters.last?.name == "fc.bias")
        #expect(model.buffers.first?.name == "block1.0.out_conv.1.running_mean")
    }

    @Test("softmax cross-entropy: value on a hand example and finite differences")
    func crossEntropy() {
        // logits [0, ln 3] -> softmax [1/4, 3/4]; label 1 -> loss −ln(3/4)
        let two = softmaxCrossEntropy(logits: Tensor(shape: [1, 2], scalars: [0, Float(3).squareRoot() * 0 + logf(3)]),
                                      labels: [1])
        #expect(abs(two.loss + logf(0.75)) < 1e-6)
        #expect(abs(two.gradient[0, 0] - 0.25) < 1e-6 && abs(two.gradient[0, 1] + 0.25) < 1e-6)
        checkLoss({ softmaxCrossEntropy(logits: $0, labels: [2, 0, 1]) }, at: randomTensor([3, 4], in: -3...3, seed: 42))
    }

    @Test("embedding distances: values and finite differences")
    func embeddingDistances() {
        let target = randomTensor([2, 5], seed: 43)
        let a = Tensor(shape: [1, 2], scalars: [3, 4]), b = Tensor(shape: [1, 2], scalars: [0, 0])
        #expect(squaredL2Distance(a, b).loss == 25)
        #expect(abs(normalizedL2Distance(a, Tensor(shape: [1, 2], scalars: [-6, -8])).loss - 2) < 1e-6)
        checkLoss({ squaredL2Distance($0, target) }, at: randomTensor([2, 5], seed: 44))
        checkLoss({ normalizedL2Distance($0, target) }, at: randomTensor([2, 5], seed: 45))
    }

    @Test("input-gradient-only mode: no parameter gradient touched, no weight-gradient kernel, same dL/dx")
    func inputGradientOnly() {
        var rng = SplitMix64(seed: 46)
        // Odd, test-unique sizes so the convolution execution counters are not shared with other tests.
        let model = SmallCNN(inputChannels: 3, classCount: 4, widths: [5, 6, 7], using: &rng)
        let x = randomTensor([3, 11, 13, 3], seed: 47)
        let labels = [0, 3, 1]
        let firstConv = ConvolutionGeometry(batch: 3, inputHeight: 11, inputWidth: 13, inputChannels: 3, outputChannels: 5,
                                            kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1,
                                            hasBias: true)
        for training in [true, false] {
            model.setTraining(training)
            model.setRequiresGradient(true)
            model.zeroGradients()
            let full = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient)

            for (_, p) in model.parameters { p.gradient = Tensor(repeating: 7, shape: p.value.shape) }
            model.setRequiresGradient(false)
            let before = convolutionExecutionCounts(for: firstConv)
            let frozen = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient)
            let after = convolutionExecutionCounts(for: firstConv)

            #expect(relativeError(frozen.scalars, full.scalars, floor: 1e-6) < 1e-5, "training \(training)")
            #expect(model.parameters.allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 7 } })
            #expect(after.backwardWeights == before.backwardWeights, "weight-gradient pass must not run")
            #expect(after.backwardData == before.backwardData + 1)
        }
    }
}

/// Finite-difference check of a loss's gradient with respect to its first argument.
func checkLoss(_ loss: (Tensor) -> LossAndGradient, at x: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    let analytic = loss(x).gradient
    var numeric = [Float]()
    var xp = x
    let h: Float = 1e-3
    for i in 0..<x.count {
        xp[flat: i] += h
        let plus = Double(loss(xp).loss)
        xp[flat: i] -= 2 * h
        let minus = Double(loss(xp).loss)
        xp[flat: i] += h
        numeric.append(Float((plus - minus) / (2 * Double(h))))
    }
    let error = relativeError(numeric, analytic.scalars)
    #expect(error < 5e-3, "loss gradient relative error \(error)", sourceLocation: sourceLocation)
}

#if canImport(Glibc)
import Glibc
#endif
