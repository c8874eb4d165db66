// Elementwise kernels in plain Swift. Loops run over raw pointers so that LLVM vectorises them
// (build with `-target-cpu znver4` to get AVX-512 code). They are layout-agnostic: any shape works.

/// `max(x, 0)` elementwise.
public func relu(_ x: Tensor) -> Tensor {
    Tensor(shape: x.shape) { y in
        x.withUnsafeBufferPointer { x in
            let xp = x.baseAddress!, yp = y.baseAddress!
            for i in 0..<x.count { yp[i] = max(xp[i], 0) }
        }
    }
}

/// ReLU input gradient from its output: `dx = dy · [y > 0]`.
public func reluBackward(outputGradient: Tensor, output: Tensor) -> Tensor {
    precondition(outputGradient.shape == output.shape, "reluBackward shapes differ: \(outputGradient.shape), \(output.shape)")
    return Tensor(shape: output.shape) { dx in
        outputGradient.withUnsafeBufferPointer { dy in
            output.withUnsafeBufferPointer { y in
                let dyp = dy.baseAddress!, yp = y.baseAddress!, dxp = dx.baseAddress!
                for i in 0..<y.count { dxp[i] = yp[i] > 0 ? dyp[i] : 0 }
            }
        }
    }
}

/// `a + b` for tensors of the same shape.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add shapes differ: \(a.shape), \(b.shape)")
    return Tensor(shape: a.shape) { c in
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                let ap = a.baseAddress!, bp = b.baseAddress!, cp = c.baseAddress!
                for i in 0..<a.count { cp[i] = ap[i] + bp[i] }
            }
        }
    }
}

/// `destination += scale · source` (axpy), in place.
public func accumulate(_ source: Tensor, scaledBy scale: Float = 1, into destination: inout Tensor) {
    precondition(source.count == destination.count, "accumulate sizes differ: \(source.shape), \(destination.shape)")
    source.withUnsafeBufferPointer { s in
        destination.withUnsafeMutableBufferPointer { d in
            let sp = s.baseAddress!, dp = d.baseAddress!
            if scale == 1 {
                for i in 0..<s.count { dp[i] += sp[i] }
            } else {
                for i in 0..<s.count { dp[i] += scale * sp[i] }
            }
        }
    }
}

/// `scale · x` elementwise.
public func scaled(_ x: Tensor, by scale: Float) -> Tensor {
    Tensor(shape: x.shape) { y in
        x.withUnsafeBufferPointer { x in
            let xp = x.baseAddress!, yp = y.baseAddress!
            for i in 0..<x.count { yp[i] = scale * xp[i] }
        }
    }
}

/// Sum of squares of all elements, accumulated in `Double`.
public func squaredNorm(_ x: Tensor) -> Double {
    x.withUnsafeBufferPointer { x in
        var total = 0.0
        var start = 0
        // Blocks of Float partial sums keep the loop vectorised; Double across blocks keeps it accurate.
        while start < x.count {
            let end = min(start + 4096, x.count)
            var partial: Float = 0
            for i in start..<end { partial += x[i] * x[i] }
            total += Double(partial)
            start = end
        }
        return total
    }
}

// MARK: - Per-channel kernels (channels are the innermost axis: NHWC `[N, H, W, C]` or `[N, C]`)

/// `y[..., c] = x[..., c] · scale[c] + shift[c]` for a tensor whose innermost axis has `scale.count` channels.
public func channelAffine(_ x: Tensor, scale: [Float], shift: [Float]) -> Tensor {
    let c = x.shape.last ?? 0
    precondition(scale.count == c && shift.count == c, "channelAffine needs \(c) scales and shifts")
    return Tensor(shape: x.shape) { y in
        x.withUnsafeBufferPointer { x in
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { t in
                    let xp = x.baseAddress!, yp = y.baseAddress!, sp = s.baseAddress!, tp = t.baseAddress!
                    var row = 0
                    while row < x.count {
                        for j in 0..<c { yp[row + j] = xp[row + j] * sp[j] + tp[j] }
                        row += c
                    }
                }
            }
        }
    }
}

/// `y[..., c] = a[..., c] · ka[c] + b[..., c] · kb[c] + k[c]` (the fused batch-norm backward step).
public func channelLinearCombination(_ a: Tensor, _ ka: [Float], _ b: Tensor, _ kb: [Float], _ k: [Float]) -> Tensor {
    let c = a.shape.last ?? 0
    precondition(a.shape == b.shape && ka.count == c && kb.count == c && k.count == c,
                 "channelLinearCombination shapes do not match")
    return Tensor(shape: a.shape) { y in
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                ka.withUnsafeBufferPointer { ka in
                    kb.withUnsafeBufferPointer { kb in
                        k.withUnsafeBufferPointer { k in
                            let ap = a.baseAddress!, bp = b.baseAddress!, yp = y.baseAddress!
                            let kap = ka.baseAddress!, kbp = kb.baseAddress!, kp = k.baseAddress!
                            var row = 0
                            while row < a.count {
                                for j in 0..<c { yp[row + j] = ap[row + j] * kap[j] + bp[row + j] * kbp[j] + kp[j] }
                                row += c
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per-channel sums over all outer positions: `s[c] = Σ x[..., c]`, or `Σ x[..., c] · y[..., c]` when `y` is given.
/// Accumulates blocks of rows in `Float` and the blocks in `Double`.
public func channelSums(_ x: Tensor, times y: Tensor? = nil) -> [Float] {
    let c = x.shape.last ?? 0
    if let y { precondition(y.shape == x.shape, "channelSums shapes differ: \(x.shape), \(y.shape)") }
    var total = [Double](repeating: 0, count: c)
    var partial = [Float](repeating: 0, count: c)
    let rows = c == 0 ? 0 : x.count / c
    let blockRows = 256
    x.withUnsafeBufferPointer { xb in
        let xp = xb.baseAddress!
        partial.withUnsafeMutableBufferPointer { pb in
            let pp = pb.baseAddress!
            var r0 = 0
            while r0 < rows {
                let r1 = min(r0 + blockRows, rows)
                for j in 0..<c { pp[j] = 0 }
                if let y {
                    y.withUnsafeBufferPointer { yb in
                        let yp = yb.baseAddress!
                        for r in r0..<r1 {
                            let o = r * c
                            for j in 0..<c { pp[j] += xp[o + j] * yp[o + j] }
                        }
                    }
                } else {
                    for r in r0..<r1 {
                        let o = r * c
                        for j in 0..<c { pp[j] += xp[o + j] }
                    }
                }
                for j in 0..<c { total[j] += Double(pp[j]) }
                r0 = r1
            }
        }
    }
    return total.map { Float($0) }
}

/// Per-channel sums of squared deviations: `s[c] = Σ (x[..., c] − mean[c])²`.
public func channelSquaredDeviations(_ x: Tensor, mean: [Float]) -> [Float] {
    let c = x.shape.last ?? 0
    precondition(mean.count == c, "channelSquaredDeviations needs \(c) means")
    var total = [Double](repeating: 0, count: c)
    var partial = [Float](repeating: 0, count: c)
    let rows = c == 0 ? 0 : x.count / c
    x.withUnsafeBufferPointer { xb in
        mean.withUnsafeBufferPointer { mb in
            partial.withUnsafeMutableBufferPointer { pb in
                let xp = xb.baseAddress!, mp = mb.baseAddress!, pp = pb.baseAddress!
                var r0 = 0
                while r0 < rows {
                    let r1 = min(r0 + 256, rows)
                    for j in 0..<c { pp[j] = 0 }
                    for r in r0..<r1 {
                        let o = r * c
                        for j in 0..<c { let d = xp[o + j] - mp[j]; pp[j] += d * d }
                    }
                    for j in 0..<c { total[j] += Double(pp[j]) }
                    r0 = r1
                }
            }
        }
    }
    return total.map { Float($0) }
}
