import CloakTensor

/// Mean squared L2 distance between embeddings: `L = (1/N) Σ_n ‖a_n − b_n‖²`, gradient `2 (a − b) / N`
/// with respect to `a` (`b` is the fixed target).
///
/// - Parameters:
///   - a: `[N, D]` embeddings being optimised.
///   - b: `[N, D]` target embeddings.
public func squaredL2Distance(_ a: Tensor, _ b: Tensor) -> LossAndGradient {
    precondition(a.shape == b.shape && a.shape.count == 2, "squaredL2Distance needs equal [N, D] shapes")
    let n = Float(a.shape[0])
    let av = a.scalars, bv = b.scalars
    var total = 0.0
    var g = [Float](repeating: 0, count: av.count)
    for i in av.indices {
        let d = av[i] - bv[i]
        total += Double(d * d)
        g[i] = 2 * d / n
    }
    return LossAndGradient(loss: Float(total) / n, gradient: Tensor(shape: a.shape, scalars: g))
}

/// Mean L2 distance between L2-normalised embeddings: `L = (1/N) Σ_n ‖â_n − b̂_n‖` with `x̂ = x / ‖x‖`
/// (the distance Fawkes-style cloaks push on), gradient with respect to `a` (`b` is the fixed target).
///
/// With `u = â_n`, `v = b̂_n`, `d = ‖u − v‖`, `g_u = (u − v) / d`: `dL/da_n = (g_u − u (u · g_u)) / (N ‖a_n‖)`.
/// Rows where `d = 0` get a zero gradient.
public func normalizedL2Distance(_ a: Tensor, _ b: Tensor) -> LossAndGradient {
    precondition(a.shape == b.shape && a.shape.count == 2, "normalizedL2Distance needs equal [N, D] shapes")
    let (n, dim) = (a.shape[0], a.shape[1])
    let av = a.scalars, bv = b.scalars
    var total = 0.0
    var g = [Float](repeating: 0, count: av.count)
    for row in 0..<n {
        let ar = Array(av[row * dim..<(row + 1) * dim]), br = Array(bv[row * dim..<(row + 1) * dim])
        let aNorm = max(ar.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        let bNorm = max(br.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        let u = ar.map { $0 / aNorm }, v = br.map { $0 / bNorm }
        let diff = zip(u, v).map { $0 - $1 }
        let d = diff.reduce(0) { $0 + $1 * $1 }.squareRoot()
        total += Double(d)
        guard d > 0 else { continue }
        let gu = diff.map { $0 / d }
        let dot = zip(u, gu).reduce(0) { $0 + $1.0 * $1.1 }
        for j in 0..<dim { g[row * dim + j] = (gu[j] - u[j] * dot) / (Float(n) * aNorm) }
    }
    return LossAndGradient(loss: Float(total / Double(n)), gradient: Tensor(shape: a.shape, scalars: g))
}
