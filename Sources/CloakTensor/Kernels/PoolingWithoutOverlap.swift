
// MARK: - Non-overlapping windows (kernel = stride, no padding: the 2x2 pooling of the models)

extension PoolingGeometry {
    /// Windows of `kernel = stride` without padding, over channels in multiples of 16: every input position
    /// belongs to at most one window, so the backward pass writes each input gradient once instead of
    /// zero-filling and scattering.
    var tilesWithoutOverlap: Bool {
        kernelHeight == strideHeight && kernelWidth == strideWidth && paddingHeight == 0 && paddingWidth == 0
            && channels % 16 == 0
    }
}

@inline(__always) private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always) private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// `maxPool2dForward` for `tilesWithoutOverlap` geometries (same results, including first-maximum ties).
func maxPool2dForwardTiled(_ x: Tensor, geometry g: PoolingGeometry) -> (output: Tensor, positions: Tensor) {
    let (c, kh, kw, w) = (g.channels, g.kernelHeight, g.kernelWidth, g.inputWidth)
    var positionsOut: Tensor?
    let y = Tensor(shape: g.outputShape) { out in
        positionsOut = Tensor(shape: g.outputShape) { pos in
            x.withUnsafeBufferPointer { xb in
                let xp = xb.baseAddress!, yp = out.baseAddress!, pp = pos.baseAddress!
                for n in 0..<g.batch {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                            let base = ((n * g.inputHeight + oh * kh) * w + ow * kw) * c
                            var j = 0
                            if kh == 2 && kw == 2 {
                                // The common 2x2 case, unrolled: the later of two equal values never wins.
                                let one = SIMD16<Float>(repeating: 1), two = SIMD16<Float>(repeating: 2)
                                let three = SIMD16<Float>(repeating: 3)
                                while j < c {
                                    let p00 = xp + base + j, p10 = p00 + w * c
                                    let v00 = load16(p00), v01 = load16(p00 + c), v10 = load16(p10), v11 = load16(p10 + c)
                                    var best = v00, position = SIMD16<Float>(repeating: 0)
                                    var larger = v01 .> best
                                    best.replace(with: v01, where: larger); position.replace(with: one, where: larger)
                                    larger = v10 .> best
                                    best.replace(with: v10, where: larger); position.replace(with: two, where: larger)
                                    larger = v11 .> best
                                    best.replace(with: v11, where: larger); position.replace(with: three, where: larger)
                                    store16(best, yp + o + j)
                                    store16(position, pp + o + j)
                                    j += 16
                                }
                            }
                            while j < c {
                                var best = load16(xp + base + j)
                                var position = SIMD16<Float>(repeating: 0)
                                for a in 0..<kh {
                                    for b in 0..<kw where a != 0 || b != 0 {
                                        let v = load16(xp + base + (a * w + b) * c + j)
                                        let larger = v .> best
                                        best.replace(with: v, where: larger)
                                        position.replace(with: Float(a * kw + b), where: larger)
                                    }
                                }
                                store16(best, yp + o + j)
                                store16(position, pp + o + j)
                                j += 16
                            }
                        }
                    }
                }
            }
        }
    }
    return (y, positionsOut!)
}

/// `maxPool2dBackward` for `tilesWithoutOverlap` geometries: every input gradient is written exactly once
/// (the window's maximum gets the output gradient, the rest of the window and uncovered borders get 0).
func maxPool2dBackwardTiled(outputGradient: Tensor, positions: Tensor, geometry g: PoolingGeometry) -> Tensor {
    let (c, kh, kw, w) = (g.channels, g.kernelHeight, g.kernelWidth, g.inputWidth)
    let coveredHeight = g.outputHeight * kh, coveredWidth = g.outputWidth * kw
    return Tensor(shape: g.inputShape) { dx in
        outputGradient.withUnsafeBufferPointer { dyb in
            positions.withUnsafeBufferPointer { pb in
                let dyp = dyb.baseAddress!, pp = pb.baseAddress!, dxp = dx.baseAddress!
                let zero = SIMD16<Float>(repeating: 0)
                for n in 0..<g.batch {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                            let base = ((n * g.inputHeight + oh * kh) * w + ow * kw) * c
                            var j = 0
                            if kh == 2 && kw == 2 {
                                let zero = SIMD16<Float>(repeating: 0), one = SIMD16<Float>(repeating: 1)
                                let two = SIMD16<Float>(repeating: 2), three = SIMD16<Float>(repeating: 3)
                                while j < c {
                                    let d = load16(dyp + o + j), p = load16(pp + o + j)
                                    let q00 = dxp + base + j, q10 = q00 + w * c
                                    var v = d; v.replace(with: zero, where: p .!= zero); store16(v, q00)
                                    v = d; v.replace(with: zero, where: p .!= one); store16(v, q00 + c)
                                    v = d; v.replace(with: zero, where: p .!= two); store16(v, q10)
                                    v = d; v.replace(with: zero, where: p .!= three); store16(v, q10 + c)
                                    j += 16
                                }
                            }
                            while j < c {
                                let d = load16(dyp + o + j), p = load16(pp + o + j)
                                for a in 0..<kh {
                                    for b in 0..<kw {
                                        var v = d
                                        v.replace(with: zero, where: p .!= SIMD16<Float>(repeating: Float(a * kw + b)))
                                        store16(v, dxp + base + (a * w + b) * c + j)
                                    }
                                }
                                j += 16
                            }
                        }
                        // Columns right of the last window.
                        if coveredWidth < w {
                            for a in 0..<kh {
                                let row = ((n * g.inputHeight + oh * kh + a) * w + coveredWidth) * c
                                (dxp + row).initialize(repeating: 0, count: (w - coveredWidth) * c)
                            }
                        }
                    }
                    // Rows below the last window.
                    if coveredHeight < g.inputHeight {
                        let row = (n * g.inputHeight + coveredHeight) * w * c
                        (dxp + row).initialize(repeating: 0, count: (g.inputHeight - coveredHeight) * w * c)
                    }
                }
            }
        }
    }
}
