// dlib's `add_prev` semantics: tensors of different channel or spatial sizes are added after zero padding
// both to the elementwise maximum shape; each tensor sits at the origin (index 0 of every axis).

/// `a + b` after zero-padding both to the elementwise maximum of their shapes.
///
/// Layout: both tensors are NHWC `[N, H, W, C]` with the same batch `N`; the result is
/// `[N, max(Ha, Hb), max(Wa, Wb), max(Ca, Cb)]`, and element `[n, h, w, c]` of `a` lands at the same index.
/// This is dlib's `add_prev` (used by its ResNet face descriptor, where the skip path has fewer channels and,
/// in the last stages, a larger spatial size than the main path).
public func addPadded(_ a: Tensor, _ b: Tensor) -> Tensor {
    if a.shape == b.shape { return add(a, b) }
    precondition(a.shape.count == 4 && b.shape.count == 4 && a.shape[0] == b.shape[0],
                 "addPadded needs NHWC tensors with the same batch, got \(a.shape) and \(b.shape)")
    let shape = zip(a.shape, b.shape).map { max($0, $1) }
    var result = Tensor(zeros: shape)
    addInto(&result, a)
    addInto(&result, b)
    return result
}

/// The part of an NHWC tensor at the origin with the given (smaller or equal) shape: the gradient of
/// `addPadded` with respect to an operand of that shape.
public func cropped(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x }
    precondition(x.shape.count == 4 && shape.count == 4 && zip(x.shape, shape).allSatisfy { $0 >= $1 },
                 "cannot crop \(x.shape) to \(shape)")
    let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
    let (xh, xw, xc) = (x.shape[1], x.shape[2], x.shape[3])
    return Tensor(shape: shape) { out in
        x.withUnsafeBufferPointer { src in
            let sp = src.baseAddress!, op = out.baseAddress!
            for ni in 0..<n {
                for hi in 0..<h {
                    for wi in 0..<w {
                        let s = ((ni * xh + hi) * xw + wi) * xc, d = ((ni * h + hi) * w + wi) * c
                        for ci in 0..<c { op[d + ci] = sp[s + ci] }
                    }
                }
            }
        }
    }
}

/// `big[origin block] += small`, where `small` fits inside `big` (NHWC).
private func addInto(_ big: inout Tensor, _ small: Tensor) {
    let (n, h, w, c) = (small.shape[0], small.shape[1], small.shape[2], small.shape[3])
    let (bh, bw, bc) = (big.shape[1], big.shape[2], big.shape[3])
    small.withUnsafeBufferPointer { src in
        big.withUnsafeMutableBufferPointer { dst in
            let sp = src.baseAddress!, dp = dst.baseAddress!
            for ni in 0..<n {
                for hi in 0..<h {
                    for wi in 0..<w {
                        let s = ((ni * h + hi) * w + wi) * c, d = ((ni * bh + hi) * bw + wi) * bc
                        for ci in 0..<c { dp[d + ci] += sp[s + ci] }
                    }
                }
            }
        }
    }
}
