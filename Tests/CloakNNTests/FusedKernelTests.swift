import CloakTensor
import Testing
@testable import CloakNN

@Suite("Fused batch norm + ReLU and skipped input gradients")
struct FusedKernelTests {
    /// Two identical batch norms with random γ, β and running statistics.
    private func twinBatchNorms(_ channels: Int, seed: UInt64) -> (BatchNorm2D, BatchNorm2D) {
        let pair = (BatchNorm2D(featureCount: channels), BatchNorm2D(featureCount: channels))
        for bn in [pair.0, pair.1] {
            bn.weight.value = randomTensor([channels], in: 0.5...1.5, seed: seed)
            bn.bias.value = randomTensor([channels], in: -0.5...0.5, seed: seed + 1)
            bn.runningMean.value = randomTensor([channels], seed: seed + 2)
            bn.runningVariance.value = randomTensor([channels], in: 0.5...2, seed: seed + 3)
        }
        return pair
    }

    @Test("Sequential [BatchNorm2D, ReLU] runs fused and matches the two layers run one by one",
          arguments: [(true, 3), (true, 19), (false, 3), (false, 35)])
    func fusedMatchesUnfused(training: Bool, channels: Int) {
        let (fusedBN, plainBN) = twinBatchNorms(channels, seed: UInt64(50 + channels))
        let fused = Sequential([fusedBN, ReLU()])
        let relu = ReLU()
        fused.setTraining(training)
        plainBN.setTraining(training)
        let x = randomTensor([3, 5, 4, channels], in: -2...2, seed: 60)
        let r = randomTensor([3, 5, 4, channels], seed: 61)

        let yFused = fused.forward(x)
        let yPlain = relu.forward(plainBN.forward(x))
        #expect(relativeError(yFused.scalars, yPlain.scalars, floor: 1e-6) < 1e-5)
        #expect(yFused.scalars.allSatisfy { $0 >= 0 })
        let dxFused = fused.backward(r)
        let dxPlain = plainBN.backward(relu.backward(r))
        #expect(relativeError(dxFused.scalars, dxPlain.scalars, floor: 1e-6) < 1e-4)
        #expect(relativeError(fusedBN.weight.gradient.scalars, plainBN.weight.gradient.scalars, floor: 1e-6) < 1e-4)
        #expect(relativeError(fusedBN.bias.gradient.scalars, plainBN.bias.gradient.scalars, floor: 1e-6) < 1e-4)
        #expect(relativeError(fusedBN.runningMean.value.scalars, plainBN.runningMean.value.scalars, floor: 1e-6) < 1e-5)
        #expect(relativeError(fusedBN.runningVariance.value.scalars, plainBN.runningVariance.value.scalars,
                              floor: 1e-6) < 1e-5)
    }

    /// NHWC values whose every channel is a shuffled ladder ±(k + ½)·gap with mean exactly 0, so that with β = 0
    /// and zero (running or batch) mean the batch norm output stays clear of ReLU's kink under finite differences.
    private func symmetricLadder(_ shape: [Int], gap: Float = 0.05, seed: UInt64) -> Tensor {
        let c = shape.last!, rows = shape.reduce(1, *) / c
        precondition(rows % 2 == 0)
        var rng = SplitMix64(seed: seed)
        var columns: [[Float]] = []
        for _ in 0..<c {
            var column: [Float] = []
            for k in 0..<rows / 2 {
                let v = Float(k) * gap + gap / 2
                column += [v, -v]
            }
            column.shuffle(using: &rng)
            columns.append(column)
        }
        return Tensor(shape: shape) { out in
            for r in 0..<rows { for j in 0..<c { out[r * c + j] = columns[j][r] } }
        }
    }

    @Test("fused batch norm + ReLU: finite differences (training and inference, 16+3 channels)",
          arguments: [true, false])
    func fusedFiniteDifferences(training: Bool) {
        let (bn, _) = twinBatchNorms(19, seed: 70)
        bn.bias.value = Tensor(zeros: [19])
        bn.runningMean.value = Tensor(zeros: [19])
        let net = Sequential([bn, ReLU()])
        net.setTraining(training)
        checkGradients(of: net, input: symmetricLadder([2, 3, 3, 19], seed: 71), step: 5e-3)
    }

    @Test("fused batch norm + ReLU with frozen parameters: same dL/dx, parameter gradients untouched")
    func fusedFrozen() {
        let (bn, _) = twinBatchNorms(19, seed: 80)
        let net = Sequential([bn, ReLU()])
        let x = randomTensor([2, 4, 3, 19], in: -2...2, seed: 81), r = randomTensor([2, 4, 3, 19], seed: 82)
        for training in [true, false] {
            net.setTraining(training)
            net.setRequiresGradient(true)
            _ = net.forward(x)
            let full = net.backward(r)
            net.setRequiresGradient(false)
            for (_, p) in net.parameters { p.gradient = Tensor(repeating: 7, shape: p.value.shape) }
            _ = net.forward(x)
            let frozen = net.backward(r)
            #expect(relativeError(frozen.scalars, full.scalars, floor: 1e-6) < 1e-5, "training \(training)")
            #expect(net.parameters.allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 7 } })
        }
    }

    @Test("backward without input gradient: same parameter gradients, zeros returned, no backward-data pass",
          arguments: [true, false])
    func skippedInputGradient(resnet: Bool) {
        var rng = SplitMix64(seed: 90)
        let model: any Layer = resnet
            ? ResNet18(inputChannels: 2, classCount: 3, using: &rng)
            : SmallCNN(inputChannels: 2, classCount: 3, widths: [3, 5, 6], using: &rng)
        // Test-unique sizes so the convolution execution counters are not shared with other tests.
        let x = randomTensor([2, 9, 11, 2], seed: 91), labels = [2, 0]
        let firstConv = ConvolutionGeometry(batch: 2, inputHeight: 9, inputWidth: 11, inputChannels: 2,
                                            outputChannels: resnet ? 64 : 3, kernelHeight: 3, kernelWidth: 3,
                                            paddingHeight: 1, paddingWidth: 1, hasBias: !resnet)
        model.setTraining(true)
        model.zeroGradients()
        let full = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient)
        let fullGradients = model.parameters.map { $0.parameter.gradient.scalars }
        #expect(full.scalars.contains { $0 != 0 })

        model.zeroGradients()
        let before = convolutionExecutionCounts(for: firstConv)
        let skipped = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient,
                                     needsInputGradient: false)
        let after = convolutionExecutionCounts(for: firstConv)
        #expect(skipped.shape == x.shape && skipped.scalars.allSatisfy { $0 == 0 })
        #expect(after.backwardData == before.backwardData, "the first layer's input gradient must be skipped")
        #expect(after.backwardWeights == before.backwardWeights + 1)
        for ((name, p), expected) in zip(model.parameters, fullGradients) {
            #expect(relativeError(p.gradient.scalars, expected, floor: 1e-6) < 1e-4, "\(name)")
        }
    }

    @Test("batch statistics stay accurate when the mean is large against the spread")
    func batchStatisticsAccuracy() {
        let x = Tensor(shape: [4, 8, 8, 17], scalars: randomTensor([4, 8, 8, 17], seed: 100).scalars.map { 1000 + 0.01 * $0 })
        let (_, state) = batchNormalizationForward(x, scale: Tensor(repeating: 1, shape: [17]),
                                                   shift: Tensor(zeros: [17]), epsilon: 1e-5,
                                                   runningStatistics: nil, fusingReLU: false)
        let values = x.scalars
        for c in 0..<17 {
            let column = stride(from: c, to: values.count, by: 17).map { Double(values[$0]) }
            let mean = column.reduce(0, +) / Double(column.count)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(column.count)
            #expect(abs(Double(state.mean[c]) - mean) < 1e-3)
            #expect(abs(Double(state.variance[c]) - variance) < 1e-3 * variance, "channel \(c)")
        }
    }
}
