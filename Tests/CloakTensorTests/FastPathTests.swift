import Testing
@testable import CloakTensor

@Suite("Specialised kernels match the general ones")
struct FastPathTests {
    @Test("column (im2col + sgemm) convolution backward for 1-3 input channels matches naive loops",
          arguments: [
              ConvolutionGeometry(batch: 3, inputHeight: 9, inputWidth: 7, inputChannels: 1, outputChannels: 16,
                                  kernelHeight: 3, kernelWidth: 3, paddingHeight: 1, paddingWidth: 1, hasBias: true),
              ConvolutionGeometry(batch: 2, inputHeight: 8, inputWidth: 11, inputChannels: 3, outputChannels: 20,
                                  kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                  paddingHeight: 1, paddingWidth: 1, hasBias: false),
              ConvolutionGeometry(batch: 2, inputHeight: 6, inputWidth: 5, inputChannels: 2, outputChannels: 3,
                                  kernelHeight: 2, kernelWidth: 3, strideHeight: 1, strideWidth: 2, hasBias: true),
          ])
    func columnConvolution(_ g: ConvolutionGeometry) {
        #expect(g.usesColumnBackward)
        let x = randomTensor(g.inputShape, seed: 11), w = randomTensor(g.weightShape, seed: 12)
        let dy = randomTensor(g.outputShape, seed: 13)
        let reference = referenceConv2dBackward(x, w, dy, g)
        #expect(maxAbsDifference(conv2dBackwardInput(dy, weight: w, geometry: g), reference.dx) < 1e-4)
        var dw = Tensor(repeating: 0.5, shape: g.weightShape)
        var db: Tensor? = g.hasBias ? Tensor(repeating: 0.25, shape: [g.outputChannels]) : nil
        conv2dBackwardParameters(input: x, outputGradient: dy, geometry: g, weightGradient: &dw, biasGradient: &db)
        var expectedW = reference.dw
        accumulate(Tensor(repeating: 0.5, shape: g.weightShape), into: &expectedW)
        #expect(maxAbsDifference(dw, expectedW) < 1e-4)
        if let db {
            var expectedB = reference.db
            accumulate(Tensor(repeating: 0.25, shape: [g.outputChannels]), into: &expectedB)
            #expect(maxAbsDifference(db, expectedB) < 1e-4)
        }
    }

    /// Naive max pooling: maxima, first-maximum positions and the input gradient.
    private func referenceMaxPool(_ x: Tensor, _ dy: Tensor, _ g: PoolingGeometry) -> (y: Tensor, dx: Tensor) {
        var y = Tensor(zeros: g.outputShape), dx = Tensor(zeros: g.inputShape)
        for n in 0..<g.batch {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    for c in 0..<g.channels {
                        var best = -Float.infinity, at = (0, 0)
                        for a in 0..<g.kernelHeight {
                            for b in 0..<g.kernelWidth {
                                let h = oh * g.strideHeight + a, w = ow * g.strideWidth + b
                                if x[n, h, w, c] > best { best = x[n, h, w, c]; at = (h, w) }
                            }
                        }
                        y[n, oh, ow, c] = best
                        dx[n, at.0, at.1, c] += dy[n, oh, ow, c]
                    }
                }
            }
        }
        return (y, dx)
    }

    @Test("max pooling with non-overlapping windows (the tiled fast path), odd sizes and ties",
          arguments: [(2, [2, 7, 9, 32]), (3, [1, 7, 6, 16]), (2, [1, 4, 4, 48])])
    func tiledMaxPool(kernel: Int, shape: [Int]) {
        let g = PoolingGeometry(inputShape: shape, kernelHeight: kernel, kernelWidth: kernel, strideHeight: kernel,
                                strideWidth: kernel)
        #expect(g.tilesWithoutOverlap)
        // Values on a coarse grid so that windows contain ties.
        var x = randomTensor(shape, seed: 21)
        x = Tensor(shape: shape, scalars: x.scalars.map { ($0 * 3).rounded() })
        let dy = randomTensor(g.outputShape, seed: 22)
        let (y, positions) = maxPool2dForward(x, geometry: g)
        let reference = referenceMaxPool(x, dy, g)
        #expect(y.scalars == reference.y.scalars)
        #expect(maxPool2dBackward(outputGradient: dy, positions: positions, geometry: g).scalars == reference.dx.scalars)
    }
}
