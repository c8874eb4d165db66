import Testing
@testable import CloakTensor

@Suite("Swift kernels: exact values on tiny inputs")
struct KernelTests {
    /// 1x4x4x1 arange: 0 1 2 3 / 4 5 6 7 / 8 9 10 11 / 12 13 14 15
    let arange = Tensor(shape: [1, 4, 4, 1], scalars: (0..<16).map(Float.init))

    @Test func maxPool2x2() {
        let g = PoolingGeometry(inputShape: arange.shape, kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        let (y, positions) = maxPool2dForward(arange, geometry: g)
        #expect(y.shape == [1, 2, 2, 1])
        #expect(y.scalars == [5, 7, 13, 15])
        let dx = maxPool2dBackward(outputGradient: Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4]), positions: positions,
                                   geometry: g)
        #expect(dx.scalars == [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4])
    }

    @Test func maxPool3x3Stride2Padded() {
        let g = PoolingGeometry(inputShape: arange.shape, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                paddingHeight: 1, paddingWidth: 1)
        #expect(maxPool2dForward(arange, geometry: g).output.scalars == [5, 7, 13, 15])
    }

    @Test func maxPoolTiesGoToTheFirstPosition() {
        let x = Tensor(repeating: 1, shape: [1, 2, 2, 1])
        let g = PoolingGeometry(inputShape: x.shape, kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        let dx = maxPool2dBackward(outputGradient: Tensor(repeating: 3, shape: [1, 1, 1, 1]),
                                   positions: maxPool2dForward(x, geometry: g).positions, geometry: g)
        #expect(dx.scalars == [3, 0, 0, 0])
    }

    @Test func averagePoolWithAndWithoutPaddingInCount() {
        let g = PoolingGeometry(inputShape: arange.shape, kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                paddingHeight: 1, paddingWidth: 1)
        // top-left window covers 0,1,4,5 (4 valid positions of 9)
        #expect(avgPool2dForward(arange, geometry: g, countIncludesPadding: true)[0, 0, 0, 0] == Float(10) / 9)
        #expect(avgPool2dForward(arange, geometry: g, countIncludesPadding: false)[0, 0, 0, 0] == 2.5)
        let global = PoolingGeometry(inputShape: arange.shape, kernelHeight: 4, kernelWidth: 4, strideHeight: 4,
                                     strideWidth: 4)
        #expect(avgPool2dForward(arange, geometry: global).scalars == [7.5])
        #expect(avgPool2dBackward(outputGradient: Tensor(repeating: 16, shape: [1, 1, 1, 1]), geometry: global).scalars
                == [Float](repeating: 1, count: 16))
    }

    @Test func paddedAddFollowsDlibAddPrev() {
        // a: 1x1x2x1 [1, 2]; b: 1x2x1x2 [[10, 20], [30, 40]] -> result 1x2x2x2
        let a = Tensor(shape: [1, 1, 2, 1], scalars: [1, 2])
        let b = Tensor(shape: [1, 2, 1, 2], scalars: [10, 20, 30, 40])
        let c = addPadded(a, b)
        #expect(c.shape == [1, 2, 2, 2])
        #expect(c.scalars == [11, 20, 2, 0, 30, 40, 0, 0])
        #expect(cropped(c, to: a.shape).scalars == [11, 2])
        #expect(cropped(c, to: b.shape).scalars == [11, 20, 30, 40])
    }

    @Test func reluAndBackward() {
        let x = Tensor(shape: [4], scalars: [-1, 0, 2, -3])
        let y = relu(x)
        #expect(y.scalars == [0, 0, 2, 0])
        #expect(reluBackward(outputGradient: Tensor(shape: [4], scalars: [1, 1, 1, 1]), output: y).scalars == [0, 0, 1, 0])
    }

    @Test func channelReductions() {
        let x = Tensor(shape: [2, 1, 1, 3], scalars: [1, 2, 3, 5, 6, 7])
        #expect(channelSums(x) == [6, 8, 10])
        #expect(channelSums(x, times: x) == [26, 40, 58])
        #expect(channelSquaredDeviations(x, mean: [3, 4, 5]) == [8, 8, 8])
        #expect(channelAffine(x, scale: [1, 2, 3], shift: [0, 1, 0]).scalars == [1, 5, 9, 5, 13, 21])
    }

    @Test func matrixMultiplyTransposes() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(matrixMultiply(a, b).scalars == [58, 64, 139, 154])
        #expect(matrixMultiply(a, transposeA: true, a).scalars == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        var c = Tensor(repeating: 1, shape: [2, 2])
        matrixMultiply(a, a, transposeB: true, beta: 1, into: &c)
        #expect(c.scalars == [15, 33, 33, 78])
    }

    @Test func copyOnWrite() {
        let a = Tensor(shape: [3], scalars: [1, 2, 3])
        var b = a
        b[0] = 9
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [9, 2, 3])
        #expect(a.contentToken != b.contentToken)
    }

    @Test func seededGeneratorIsReproducible() {
        var g1 = SplitMix64(seed: 42), g2 = SplitMix64(seed: 42)
        #expect(Tensor(normalMean: 0, standardDeviation: 1, shape: [5], using: &g1).scalars
                == Tensor(normalMean: 0, standardDeviation: 1, shape: [5], using: &g2).scalars)
    }
}
