import CloakTensor
import Testing
@testable import CloakNN

/// Deterministic uniform tensor in `range`.
func randomTensor(_ shape: [Int], in range: ClosedRange<Float> = -1...1, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(uniform: range, shape: shape, using: &rng)
}

/// Values whose magnitudes are at least `gap` and pairwise at least `gap` apart (a shuffled ladder), so that
/// ReLU and max pooling have no kink within a finite-difference step.
func kinkFreeTensor(_ shape: [Int], gap: Float = 0.05, seed: UInt64) -> Tensor {
    let count = shape.reduce(1, *)
    var values = (0..<count).map { Float($0 - count / 2) * gap + gap / 2 }
    var rng = SplitMix64(seed: seed)
    values.shuffle(using: &rng)
    return Tensor(shape: shape, scalars: values)
}

/// L = Σ y · r in Double, where r is a fixed random "upstream gradient".
private func probeLoss(_ y: Tensor, _ r: Tensor) -> Double {
    zip(y.scalars, r.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// Relative error ‖a − b‖ / max(‖a‖, ‖b‖, floor).
func relativeError(_ a: [Float], _ b: [Float], floor: Double = 1e-3) -> Double {
    let diff = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
    let na = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    let nb = b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    return diff / max(na, nb, floor)
}

/// Checks `backward` against central finite differences for the input and every trainable parameter
/// (dlib's `test_layer`), and checks that parameter gradients accumulate over two backward passes.
///
/// - Parameters:
///   - maxProbes: at most this many coordinates per tensor are perturbed (chosen deterministically).
func checkGradients(
    of layer: any Layer, input: Tensor, step: Float = 1e-2, tolerance: Double = 5e-3, maxProbes: Int = 48,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    layer.zeroGradients()
    let y = layer.forward(input)
    let r = randomTensor(y.shape, seed: 99)
    let dx = layer.backward(r)
    #expect(dx.shape == input.shape, "input gradient shape", sourceLocation: sourceLocation)
    let analyticParameters = layer.parameters.map { $0.parameter.gradient }

    func probes(_ count: Int) -> [Int] {
        count <= maxProbes ? Array(0..<count) : (0..<maxProbes).map { ($0 * 7919 + 13) % count }
    }
    func numeric(_ count: Int, perturb: (Int, Float) -> Void) -> [Float] {
        probes(count).map { i in
            perturb(i, step)
            let plus = probeLoss(layer.forward(input_), r)
            perturb(i, -2 * step)
            let minus = probeLoss(layer.forward(input_), r)
            perturb(i, step)
            return Float((plus - minus) / (2 * Double(step)))
        }
    }
    var input_ = input
    let numericInput = numeric(input.count) { i, d in input_[flat: i] += d }
    let analyticInput = probes(input.count).map { dx[flat: $0] }
    let inputError = relativeError(numericInput, analyticInput)
    #expect(inputError < tolerance, "input gradient relative error \(inputError)", sourceLocation: sourceLocation)

    for ((name, p), analytic) in zip(layer.parameters, analyticParameters) {
        let numericParameter = numeric(p.value.count) { i, d in p.value[flat: i] += d }
        let error = relativeError(numericParameter, probes(p.value.count).map { analytic[flat: $0] })
        #expect(error < tolerance, "\(name) gradient relative error \(error)", sourceLocation: sourceLocation)
    }

    // Accumulation: a second forward/backward adds the same gradient again.
    _ = layer.forward(input)
    _ = layer.backward(r)
    for ((name, p), first) in zip(layer.parameters, analyticParameters) {
        let twice = first.scalars.map { 2 * $0 }
        let error = relativeError(p.gradient.scalars, twice, floor: 1e-2)
        #expect(error < 1e-4, "\(name) gradient does not accumulate (error \(error))", sourceLocation: sourceLocation)
    }
    layer.zeroGradients()
    #expect(layer.parameters.allSatisfy { $0.parameter.gradient.scalars.allSatisfy { $0 == 0 } },
            "zeroGradients clears", sourceLocation: sourceLocation)
}

extension Tensor {
    /// Element by flat row-major index (tests only).
    subscript(flat i: Int) -> Float {
        get { withUnsafeBufferPointer { $0[i] } }
        set { withUnsafeMutableBufferPointer { $0[i] = newValue } }
    }
}
