import CloakTensor
import Testing
@testable import CloakNN

@Suite("Finite-difference gradient checks for every layer")
struct LayerGradientTests {
    @Test("Conv2D 3x3 stride 1 pad 1 with bias, batch 2")
    func convPadded() {
        var rng = SplitMix64(seed: 1)
        let conv = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, padding: 1, using: &rng)
        checkGradients(of: conv, input: randomTensor([2, 5, 6, 3], seed: 2))
    }

    @Test("Conv2D 3x3 stride 2 pad 1 without bias, odd size, batch 1")
    func convStride2() {
        var rng = SplitMix64(seed: 3)
        let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, bias: false, using: &rng)
        checkGradients(of: conv, input: randomTensor([1, 7, 9, 2], seed: 4))
    }

    @Test("Conv2D 1x1 stride 2 (shortcut) and 3x3 stride 2 pad 0 (dlib down block)")
    func convShortcutAndDown() {
        var rng = SplitMix64(seed: 5)
        checkGradients(of: Conv2D(inputChannels: 16, outputChannels: 16, kernelSize: 1, stride: 2, bias: false, using: &rng),
                       input: randomTensor([2, 5, 5, 16], seed: 6))
        checkGradients(of: Conv2D(inputChannels: 16, outputChannels: 32, kernelSize: 3, stride: 2, using: &rng),
                       input: randomTensor([2, 7, 7, 16], seed: 7))
    }

    @Test("BatchNorm2D in training mode (batch statistics)")
    func batchNormTraining() {
        let bn = BatchNorm2D(featureCount: 3)
        bn.weight.value = randomTensor([3], in: 0.5...1.5, seed: 8)
        bn.bias.value = randomTensor([3], seed: 9)
        checkGradients(of: bn, input: randomTensor([2, 3, 3, 3], seed: 10))
    }

    @Test("BatchNorm2D in inference mode (running statistics), batch 1")
    func batchNormInference() {
        let bn = BatchNorm2D(featureCount: 4)
        bn.weight.value = randomTensor([4], in: 0.5...1.5, seed: 11)
        bn.bias.value = randomTensor([4], seed: 12)
        bn.runningMean.value = randomTensor([4], seed: 13)
        bn.runningVariance.value = randomTensor([4], in: 0.5...2, seed: 14)
        bn.setTraining(false)
        checkGradients(of: bn, input: randomTensor([1, 3, 2, 4], seed: 15))
    }

    @Test("Affine (per-channel scale and shift)")
    func affine() {
        let layer = Affine(featureCount: 5)
        layer.weight.value = randomTensor([5], seed: 16)
        layer.bias.value = randomTensor([5], seed: 17)
        checkGradients(of: layer, input: randomTensor([2, 3, 3, 5], seed: 18))
    }

    @Test("ReLU")
    func reluLayer() {
        checkGradients(of: ReLU(), input: kinkFreeTensor([2, 3, 3, 2], seed: 19))
    }

    @Test("MaxPool2D 2x2 stride 2 on odd size, and 3x3 stride 2 pad 1")
    func maxPool() {
        checkGradients(of: MaxPool2D(kernelSize: 2), input: kinkFreeTensor([2, 5, 5, 3], seed: 20))
        checkGradients(of: MaxPool2D(kernelSize: 3, stride: 2, padding: 1), input: kinkFreeTensor([1, 7, 6, 2], seed: 21))
    }

    @Test("AvgPool2D windows (with and without padding in the count) and global")
    func avgPool() {
        checkGradients(of: AvgPool2D(kernelSize: 2), input: randomTensor([2, 5, 4, 3], seed: 22))
        checkGradients(of: AvgPool2D(kernelSize: 3, stride: 2, padding: 1), input: randomTensor([1, 7, 7, 2], seed: 23))
        checkGradients(of: AvgPool2D(kernelSize: 3, stride: 2, padding: 1, countIncludesPadding: false),
                       input: randomTensor([1, 7, 7, 2], seed: 24))
        checkGradients(of: AvgPool2D.global(), input: randomTensor([2, 3, 5, 4], seed: 25))
    }

    @Test("Linear with and without bias, batch 1 and 3")
    func linear() {
        var rng = SplitMix64(seed: 26)
        checkGradients(of: Linear(inputCount: 7, outputCount: 4, using: &rng), input: randomTensor([3, 7], seed: 27))
        checkGradients(of: Linear(inputCount: 5, outputCount: 3, bias: false, using: &rng), input: randomTensor([1, 5], seed: 28))
    }

    @Test("Flatten")
    func flatten() {
        checkGradients(of: Flatten(), input: randomTensor([2, 3, 2, 4], seed: 29))
    }

    @Test("Residual: identity shortcut, conv shortcut, and dlib add_prev with different channels and sizes")
    func residual() {
        var rng = SplitMix64(seed: 30)
        let identity = Residual(main: Sequential([
            Conv2D(inputChannels: 4, outputChannels: 4, kernelSize: 3, padding: 1, using: &rng), Affine(featureCount: 4),
        ]))
        checkGradients(of: identity, input: randomTensor([2, 4, 4, 4], seed: 31))

        let projected = Residual(
            main: Conv2D(inputChannels: 3, outputChannels: 6, kernelSize: 3, stride: 2, padding: 1, using: &rng),
            shortcut: Conv2D(inputChannels: 3, outputChannels: 6, kernelSize: 1, stride: 2, bias: false, using: &rng))
        checkGradients(of: projected, input: randomTensor([2, 5, 5, 3], seed: 32))

        // dlib down block: main = conv 3x3/2 pad 0 (8 ch, 2x2), skip = avgpool 2x2/2 (4 ch, 3x3) -> sum 8 ch, 3x3.
        let padded = Residual(
            main: Conv2D(inputChannels: 4, outputChannels: 8, kernelSize: 3, stride: 2, using: &rng),
            shortcut: AvgPool2D(kernelSize: 2))
        let x = randomTensor([2, 6, 6, 4], seed: 33)
        #expect(padded.forward(x).shape == [2, 3, 3, 8])
        checkGradients(of: padded, input: x)
    }

    @Test("Sequential conv-BN-ReLU-pool stack")
    func sequentialStack() {
        var rng = SplitMix64(seed: 34)
        let net = Sequential([
            Conv2D(inputChannels: 2, outputChannels: 4, kernelSize: 3, padding: 1, using: &rng),
            BatchNorm2D(featureCount: 4), AvgPool2D(kernelSize: 2), Flatten(),
            Linear(inputCount: 16, outputCount: 3, using: &rng),
        ])
        checkGradients(of: net, input: randomTensor([3, 4, 4, 2], seed: 35))
        #expect(net.parameters.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"])
        #expect(net.buffers.map(\.name) == ["1.running_mean", "1.running_var"])
    }
}
