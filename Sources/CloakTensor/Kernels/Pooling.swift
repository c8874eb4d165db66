// Max and average pooling over NHWC tensors, in Swift. Windows are `kernel` wide, move by `stride`, and may
// reach `padding` positions past each border. Output size: `1 + (H + 2·padding − kernel) / stride`
// (integer division; PyTorch's default floor mode and dlib's rule).

/// The shape and settings of one 2-D pooling. Input `[N, H, W, C]`, output `[N, OH, OW, C]`.
public struct PoolingGeometry: Hashable, Sendable {
    /// The input's extents `[N, H, W, C]`.
    public let batch, inputHeight, inputWidth, channels: Int
    /// Window size, step between windows, and positions past each border (top/bottom, left/right) windows may reach.
    public let kernelHeight, kernelWidth, strideHeight, strideWidth, paddingHeight, paddingWidth: Int

    /// Creates a geometry for an NHWC `inputShape`. Kernel and stride must be positive, padding at most half the
    /// window (as PyTorch), and the window no larger than the padded input.
    public init(inputShape: [Int], kernelHeight: Int, kernelWidth: Int, strideHeight: Int, strideWidth: Int,
                paddingHeight: Int = 0, paddingWidth: Int = 0) {
        precondition(inputShape.count == 4, "Pooling needs an NHWC input, got shape \(inputShape)")
        precondition(kernelHeight > 0 && kernelWidth > 0 && strideHeight > 0 && strideWidth > 0,
                     "Pooling kernel and stride must be positive")
        precondition(2 * paddingHeight <= kernelHeight && 2 * paddingWidth <= kernelWidth,
                     "Pooling padding must be at most half the window (as PyTorch), so no window is empty")
        precondition(inputShape[1] + 2 * paddingHeight >= kernelHeight && inputShape[2] + 2 * paddingWidth >= kernelWidth,
                     "Pooling window \(kernelHeight)x\(kernelWidth) is larger than the padded input \(inputShape)")
        (batch, inputHeight, inputWidth, channels) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
        (self.kernelHeight, self.kernelWidth) = (kernelHeight, kernelWidth)
        (self.strideHeight, self.strideWidth) = (strideHeight, strideWidth)
        (self.paddingHeight, self.paddingWidth) = (paddingHeight, paddingWidth)
    }

    /// `OH = 1 + (H + 2·paddingHeight − kernelHeight) / strideHeight` (integer division).
    public var outputHeight: Int { 1 + (inputHeight + 2 * paddingHeight - kernelHeight) / strideHeight }
    /// `OW = 1 + (W + 2·paddingWidth − kernelWidth) / strideWidth` (integer division).
    public var outputWidth: Int { 1 + (inputWidth + 2 * paddingWidth - kernelWidth) / strideWidth }
    /// `[N, H, W, C]` (NHWC).
    public var inputShape: [Int] { [batch, inputHeight, inputWidth, channels] }
    /// `[N, OH, OW, C]` (NHWC).
    public var outputShape: [Int] { [batch, outputHeight, outputWidth, channels] }

    /// The input rows/columns covered by the window of output position (oh, ow), clipped to the input.
    @inline(__always) func window(_ oh: Int, _ ow: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let h0 = oh * strideHeight - paddingHeight, w0 = ow * strideWidth - paddingWidth
        return (max(h0, 0)..<min(h0 + kernelHeight, inputHeight), max(w0, 0)..<min(w0 + kernelWidth, inputWidth))
    }
}

/// Max pooling forward. Padding counts as −∞ (as PyTorch).
///
/// Returns the maxima and, for the backward pass, `positions`: for every output element the position of its
/// maximum inside the clipped window (row-major over the window, first one on ties), stored as `Float` so the
/// channel loop vectorises with selects.
public func maxPool2dForward(_ x: Tensor, geometry g: PoolingGeometry) -> (output: Tensor, positions: Tensor) {
    precondition(x.shape == g.inputShape, "maxPool2d input \(x.shape) does not match \(g.inputShape)")
    if g.tilesWithoutOverlap { return maxPool2dForwardTiled(x, geometry: g) }
    let c = g.channels
    var positions = Tensor(zeros: g.outputShape)
    let y = Tensor(shape: g.outputShape) { out in
        x.withUnsafeBufferPointer { xb in
            positions.withUnsafeMutableBufferPointer { pb in
                let xp = xb.baseAddress!, yp = out.baseAddress!, pp = pb.baseAddress!
                for n in 0..<g.batch {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                            let (rows, cols) = g.window(oh, ow)
                            let first = ((n * g.inputHeight + rows.lowerBound) * g.inputWidth + cols.lowerBound) * c
                            var j = 0
                            // 16 channels at a time in registers (every channel count of the models is a multiple).
                            while j + 16 <= c {
                                var best = SIMD16<Float>(UnsafeBufferPointer(start: xp + first + j, count: 16))
                                var position = SIMD16<Float>(repeating: 0)
                                var k: Float = 0
                                for h in rows {
                                    for w in cols {
                                        let i = ((n * g.inputHeight + h) * g.inputWidth + w) * c + j
                                        let v = SIMD16<Float>(UnsafeBufferPointer(start: xp + i, count: 16))
                                        let larger = v .> best
                                        best.replace(with: v, where: larger)
                                        position.replace(with: k, where: larger)
                                        k += 1
                                    }
                                }
                                for l in 0..<16 { yp[o + j + l] = best[l]; pp[o + j + l] = position[l] }
                                j += 16
                            }
                            for jj in j..<c {
                                var best = xp[first + jj], position: Float = 0, k: Float = 0
                                for h in rows {
                                    for w in cols {
                                        let v = xp[((n * g.inputHeight + h) * g.inputWidth + w) * c + jj]
                                        if v > best { best = v; position = k }
                                        k += 1
                                    }
                                }
                                yp[o + jj] = best; pp[o + jj] = position
                            }
                        }
                    }
                }
            }
        }
    }
    return (y, positions)
}

/// Max pooling input gradient: each output gradient goes to the input position that held the window's maximum.
public func maxPool2dBackward(outputGradient: Tensor, positions: Tensor, geometry g: PoolingGeometry) -> Tensor {
    precondition(outputGradient.shape == g.outputShape && positions.shape == g.outputShape,
                 "maxPool2dBackward gradient \(outputGradient.shape) does not match \(g.outputShape)")
    if g.tilesWithoutOverlap { return maxPool2dBackwardTiled(outputGradient: outputGradient, positions: positions, geometry: g) }
    let c = g.channels
    var dx = Tensor(zeros: g.inputShape)
    outputGradient.withUnsafeBufferPointer { dyb in
        positions.withUnsafeBufferPointer { pb in
            dx.withUnsafeMutableBufferPointer { dxb in
                let dyp = dyb.baseAddress!, pp = pb.baseAddress!, dxp = dxb.baseAddress!
                for n in 0..<g.batch {
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                            let (rows, cols) = g.window(oh, ow)
                            for j in 0..<c {
                                let k = Int(pp[o + j])
                                let h = rows.lowerBound + k / cols.count, w = cols.lowerBound + k % cols.count
                                dxp[((n * g.inputHeight + h) * g.inputWidth + w) * c + j] += dyp[o + j]
                            }
                        }
                    }
                }
            }
        }
    }
    return dx
}

/// Average pooling forward. With `countIncludesPadding` (PyTorch's default) every window divides by
/// `kernelHeight · kernelWidth`; otherwise by the number of input positions inside the window.
public func avgPool2dForward(_ x: Tensor, geometry g: PoolingGeometry, countIncludesPadding: Bool = true) -> Tensor {
    precondition(x.shape == g.inputShape, "avgPool2d input \(x.shape) does not match \(g.inputShape)")
    let c = g.channels
    return Tensor(shape: g.outputShape) { out in
        x.withUnsafeBufferPointer { xb in
            let xp = xb.baseAddress!, yp = out.baseAddress!
            for n in 0..<g.batch {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                        let (rows, cols) = g.window(oh, ow)
                        for j in 0..<c { yp[o + j] = 0 }
                        for h in rows {
                            for w in cols {
                                let i = ((n * g.inputHeight + h) * g.inputWidth + w) * c
                                for j in 0..<c { yp[o + j] += xp[i + j] }
                            }
                        }
                        let divisor = countIncludesPadding ? g.kernelHeight * g.kernelWidth : rows.count * cols.count
                        let scale = 1 / Float(divisor)
                        for j in 0..<c { yp[o + j] *= scale }
                    }
                }
            }
        }
    }
}

/// Average pooling input gradient (each output gradient spread evenly over its window).
public func avgPool2dBackward(outputGradient: Tensor, geometry g: PoolingGeometry, countIncludesPadding: Bool = true)
    -> Tensor {
    precondition(outputGradient.shape == g.outputShape,
                 "avgPool2dBackward gradient \(outputGradient.shape) does not match \(g.outputShape)")
    let c = g.channels
    var dx = Tensor(zeros: g.inputShape)
    outputGradient.withUnsafeBufferPointer { dy in
        dx.withUnsafeMutableBufferPointer { dxb in
            let dyp = dy.baseAddress!, dxp = dxb.baseAddress!
            for n in 0..<g.batch {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        let o = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                        let (rows, cols) = g.window(oh, ow)
                        let divisor = countIncludesPadding ? g.kernelHeight * g.kernelWidth : rows.count * cols.count
                        let scale = 1 / Float(divisor)
                        for h in rows {
                            for w in cols {
                                let i = ((n * g.inputHeight + h) * g.inputWidth + w) * c
                                for j in 0..<c { dxp[i + j] += dyp[o + j] * scale }
                            }
                        }
                    }
                }
            }
        }
    }
    return dx
}

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
private func maxPool2dForwardTiled(_ x: Tensor, geometry g: PoolingGeometry) -> (output: Tensor, positions: Tensor) {
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
private func maxPool2dBackwardTiled(outputGradient: Tensor, positions: Tensor, geometry g: PoolingGeometry) -> Tensor {
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
