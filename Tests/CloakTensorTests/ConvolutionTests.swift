import Testing
@testable import CloakTensor

@Suite("Convolution on oneDNN matches naive loops")
struct ConvolutionTests {
    static let geometries: [ConvolutionGeometry] = [
        // batch 1, odd sizes, no padding, bias
        ConvolutionGeometry(batch: 1, inputHeight: 7, inputWidth: 5, inputChannels: 3, outputChannels: 4,
                            kernelHeight: 3, kernelWidth: 3, hasBias: true),
        // stride 2 with padding, odd input
        ConvolutionGeometry(batch: 2, inputHeight: 9, inputWidth: 11, inputChannels: 3, outputChannels: 5,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                            paddingHeight: 1, paddingWidth: 1, hasBias: false),
        // 1x1 stride 2 (ResNet shortcut), more channels so oneDNN picks a blocked weight layout
        ConvolutionGeometry(batch: 2, inputHeight: 6, inputWidth: 6, inputChannels: 16, outputChannels: 32,
                            kernelHeight: 1, kernelWidth: 1, strideHeight: 2, strideWidth: 2, hasBias: false),
        // 3x3 pad 1, 32 -> 32 channels (blocked kernels), stride 2 with pad 0 (dlib down block)
        ConvolutionGeometry(batch: 3, inputHeight: 8, inputWidth: 8, inputChannels: 32, outputChannels: 32,
                            kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, hasBias: true),
        ConvolutionGeometry(batch: 2, inputHeight: 9, inputWidth: 9, inputChannels: 16, outputChannels: 16,
                            kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, hasBias: true),
    ]

    @Test("forward, input gradient and accumulated parameter gradients", arguments: geometries)
    func matchesReference(_ g: ConvolutionGeometry) {
        let x = randomTensor(g.inputShape, seed: 1)
        let w = randomTensor(g.weightShape, seed: 2)
        let b: Tensor? = g.hasBias ? randomTensor([g.outputChannels], seed: 3) : nil
        let dy = randomTensor(g.outputShape, seed: 4)

        let y = conv2dForward(x, weight: w, bias: b, geometry: g)
        #expect(maxAbsDifference(y, referenceConv2d(x, w, b, g)) < 1e-4)

        let reference = referenceConv2dBackward(x, w, dy, g)
        let dx = conv2dBackwardInput(dy, weight: w, geometry: g)
        #expect(maxAbsDifference(dx, reference.dx) < 1e-4)

        // Gradients accumulate: start from a known value and check it is kept.
        var dw = Tensor(repeating: 0.5, shape: g.weightShape)
        var db: Tensor? = g.hasBias ? Tensor(repeating: 0.25, shape: [g.outputChannels]) : nil
        conv2dBackwardParameters(input: x, outputGradient: dy, geometry: g, weightGradient: &dw, biasGradient: &db)
        var expectedW = reference.dw
        accumulate(Tensor(repeating: 0.5, shape: g.weightShape), into: &expectedW)
        #expect(maxAbsDifference(dw, expectedW) < 1e-3)
        if let db {
            var expectedB = reference.db
            accumulate(Tensor(repeating: 0.25, shape: [g.outputChannels]), into: &expectedB)
            #expect(maxAbsDifference(db, expectedB) < 1e-4)
        }
    }

    @Test("changed weights are picked up (reordered weight cache is invalidated)")
    func weightCacheInvalidation() {
        let g = Self.geometries[3]
        let x = randomTensor(g.inputShape, seed: 5)
        var w = randomTensor(g.weightShape, seed: 6)
        let b = randomTensor([g.outputChannels], seed: 7)
        _ = conv2dForward(x, weight: w, bias: b, geometry: g)
        w.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] *= -2 } }
        let y = conv2dForward(x, weight: w, bias: b, geometry: g)
        #expect(maxAbsDifference(y, referenceConv2d(x, w, b, g)) < 1e-4)
    }

    @Test("hand-checked values: 4x4 ones, 3x3 kernel of 0.5, pad 1, bias 0.25")
    func handValues() {
        let g = ConvolutionGeometry(batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 1, outputChannels: 1,
                                    kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, hasBias: true)
        let y = conv2dForward(Tensor(repeating: 1, shape: g.inputShape), weight: Tensor(repeating: 0.5, shape: g.weightShape),
                              bias: Tensor(repeating: 0.25, shape: [1]), geometry: g)
        #expect(y[0, 0, 0, 0] == 4 * 0.5 + 0.25)   // corner sees 4 inputs
        #expect(y[0, 0, 1, 0] == 6 * 0.5 + 0.25)   // edge sees 6
        #expect(y[0, 1, 1, 0] == 9 * 0.5 + 0.25)   // interior sees 9
    }
}

extension ConvolutionGeometry: CustomTestStringConvertible {
    public var testDescription: String {
        "N\(batch) \(inputHeight)x\(inputWidth)x\(inputChannels) -> \(outputChannels) k\(kernelHeight) s\(strideHeight) p\(paddingHeight)\(hasBias ? " bias" : "")"
    }
}
