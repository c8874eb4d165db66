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
