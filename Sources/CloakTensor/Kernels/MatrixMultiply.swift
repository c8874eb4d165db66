/// Row-major matrix product `C = alpha · op(A) · op(B) + beta · C`, on oneDNN's sgemm.
///
/// - Parameters:
///   - a: `[M, K]`, or `[K, M]` when `transposeA`.
///   - b: `[K, N]`, or `[N, K]` when `transposeB`.
///   - c: `[M, N]`; read only when `beta != 0`.
public func matrixMultiply(
    _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false,
    alpha: Float = 1, beta: Float = 0, into c: inout Tensor
) {
    precondition(a.shape.count == 2 && b.shape.count == 2 && c.shape.count == 2, "matrixMultiply needs matrices")
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let kb = transposeB ? b.shape[1] : b.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == kb && c.shape == [m, n],
                 "matrixMultiply shapes \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "") -> \(c.shape)")
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                DNNLRuntime.shared.sgemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                    a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                    beta: beta, c: pc.baseAddress!, ldc: n)
            }
        }
    }
}

/// `op(A) · op(B)` as a new tensor. See `matrixMultiply(_:transposeA:_:transposeB:alpha:beta:into:)`.
public func matrixMultiply(_ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false) -> Tensor {
    let m = transposeA ? a.shape[1] : a.shape[0], n = transposeB ? b.shape[0] : b.shape[1]
    var c = Tensor(zeros: [m, n])
    matrixMultiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
}
