@testable import CloakTensor

// Naive, obviously-correct loops used as the reference for the oneDNN-backed kernels.
// Layouts as in the engine: activations NHWC, weights OIHW.

func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvolutionGeometry) -> Tensor {
    var y = Tensor(zeros: g.outputShape)
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                for o in 0..<g.outputChannels {
                    var s: Double = b.map { Double($0[o]) } ?? 0
                    for i in 0..<g.inputChannels {
                        for kh in 0..<g.kernelHeight {
                            for kw in 0..<g.kernelWidth {
                                let h = oh * g.strideHeight + kh - g.paddingHeight
                                let wi = ow * g.strideWidth + kw - g.paddingWidth
                                if h < 0 || h >= g.inputHeight || wi < 0 || wi >= g.inputWidth { continue }
                                s += Double(x[n, h, wi, i]) * Double(w[o, i, kh, kw])
                            }
                        }
                    }
                    y[n, oh, ow, o] = Float(s)
                }
            }
        }
    }
    return y
}

/// dL/dx, dL/dw and dL/db of `sum(y * dy)` for the reference convolution.
func referenceConv2dBackward(_ x: Tensor, _ w: Tensor, _ dy: Tensor, _ g: ConvolutionGeometry)
    -> (dx: Tensor, dw: Tensor, db: Tensor) {
    var dx = Tensor(zeros: g.inputShape), dw = Tensor(zeros: g.weightShape), db = Tensor(zeros: [g.outputChannels])
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                for o in 0..<g.outputChannels {
                    let d = dy[n, oh, ow, o]
                    db[o] += d
                    for i in 0..<g.inputChannels {
                        for kh in 0..<g.kernelHeight {
                            for kw in 0..<g.kernelWidth {
                                let h = oh * g.strideHeight + kh - g.paddingHeight
                                let wi = ow * g.strideWidth + kw - g.paddingWidth
                                if h < 0 || h >= g.inputHeight || wi < 0 || wi >= g.inputWidth { continue }
                                dx[n, h, wi, i] += d * w[o, i, kh, kw]
                                dw[o, i, kh, kw] += d * x[n, h, wi, i]
                            }
                        }
                    }
                }
            }
        }
    }
    return (dx, dw, db)
}

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(uniform: -1...1, shape: shape, using: &rng)
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
}
