// Convolution backward passes through explicit patch matrices ("im2col") and sgemm, for layers whose patches
// are tiny: the first layer of an image model (1 or 3 input channels, 3x3 kernel: 9 or 27 values per patch).
// oneDNN 2.6.3's direct backward kernels are slow for them (measured here: 15-30 ms per call at batch 128 for
// 1->64 @ 28x28 and 3->64 @ 32x32, against about 100-450 MFLOP of work), while a patch matrix of 9-27 columns
// is small (4-14 MB) and sgemm handles the skinny products well.

extension ConvolutionGeometry {
    /// Whether the backward passes use patch matrices and sgemm instead of oneDNN's direct kernels.
    var usesColumnBackward: Bool { columnCount <= 32 }
    /// Values per patch: `I · kH · kW` (one row of OIHW weights).
    var columnCount: Int { inputChannels * kernelHeight * kernelWidth }
    /// `N · OH · OW`.
    var outputPositions: Int { batch * outputHeight * outputWidth }
}

/// `col[p, (i·kH + kh)·kW + kw] = x[n, oh·s + kh − pad, ow·s + kw − pad, i]` (0 outside the image), for output
/// position `p = (n·OH + oh)·OW + ow`. The column order matches OIHW weights, so `y = col · Wᵀ`.
func imageToColumns(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, into col: UnsafeMutablePointer<Float>) {
    let (ci, kh, kw, k) = (g.inputChannels, g.kernelHeight, g.kernelWidth, g.columnCount)
    var p = 0
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let row = col + p * k
                for i in 0..<ci {
                    for a in 0..<kh {
                        let h = oh * g.strideHeight + a - g.paddingHeight
                        for b in 0..<kw {
                            let w = ow * g.strideWidth + b - g.paddingWidth
                            let inside = h >= 0 && h < g.inputHeight && w >= 0 && w < g.inputWidth
                            row[(i * kh + a) * kw + b] = inside ? x[((n * g.inputHeight + h) * g.inputWidth + w) * ci + i] : 0
                        }
                    }
                }
                p += 1
            }
        }
    }
}

/// The adjoint of `imageToColumns`: `dx = 0`, then every `dcol[p, (i, kh, kw)]` is added to the input position
/// it was read from.
func columnsToImage(_ dcol: UnsafePointer<Float>, _ g: ConvolutionGeometry, into dx: UnsafeMutablePointer<Float>) {
    let (ci, kh, kw, k) = (g.inputChannels, g.kernelHeight, g.kernelWidth, g.columnCount)
    dx.initialize(repeating: 0, count: g.batch * g.inputHeight * g.inputWidth * ci)
    var p = 0
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            for ow in 0..<g.outputWidth {
                let row = dcol + p * k
                for a in 0..<kh {
                    let h = oh * g.strideHeight + a - g.paddingHeight
                    if h < 0 || h >= g.inputHeight { continue }
                    for b in 0..<kw {
                        let w = ow * g.strideWidth + b - g.paddingWidth
                        if w < 0 || w >= g.inputWidth { continue }
                        let target = dx + ((n * g.inputHeight + h) * g.inputWidth + w) * ci
                        for i in 0..<ci { target[i] += row[(i * kh + a) * kw + b] }
                    }
                }
                p += 1
            }
        }
    }
}

/// `sums[j] += Σ_r m[r, j]` for a row-major `rows × columns` matrix (the bias gradient), with `Float` partial
/// sums over blocks of rows added up in `Double`.
func addColumnSums(_ m: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
    var total = [Double](repeating: 0, count: columns)
    var partial = [Float](repeating: 0, count: columns)
    var r0 = 0
    while r0 < rows {
        let r1 = min(r0 + 256, rows)
        partial.withUnsafeMutableBufferPointer { pb in
            let pp = pb.baseAddress!
            for j in 0..<columns { pp[j] = 0 }
            for r in r0..<r1 {
                let row = m + r * columns
                for j in 0..<columns { pp[j] += row[j] }
            }
        }
        for j in 0..<columns { total[j] += Double(partial[j]) }
        r0 = r1
    }
    for j in 0..<columns { sums[j] += Float(total[j]) }
}
