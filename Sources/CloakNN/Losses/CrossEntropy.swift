import CloakTensor
import Foundation

/// A scalar loss and its gradient with respect to the prediction it was computed from.
public struct LossAndGradient {
    /// The scalar loss.
    public let loss: Float
    /// dL/d(prediction), same shape as the prediction.
    public let gradient: Tensor
}

/// Softmax cross-entropy averaged over the batch, as PyTorch's `F.cross_entropy(logits, labels)`.
///
/// `L = −(1/N) Σ_n log softmax(z_n)[y_n]`, and `dL/dz_n = (softmax(z_n) − onehot(y_n)) / N`.
/// - Parameters:
///   - logits: `[N, K]`.
///   - labels: `N` class indices in `0..<K`.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> LossAndGradient {
    precondition(logits.shape.count == 2 && logits.shape[0] == labels.count,
                 "softmaxCrossEntropy needs [N, K] logits and N labels, got \(logits.shape) and \(labels.count)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    var total = 0.0
    let gradient = Tensor(shape: logits.shape) { g in
        logits.withUnsafeBufferPointer { z in
            for row in 0..<n {
                let label = labels[row]
                precondition(label >= 0 && label < k, "label \(label) outside 0..<\(k)")
                let zr = z.baseAddress! + row * k, gr = g.baseAddress! + row * k
                // Subtract the max for stability: softmax is shift-invariant.
                var maxLogit = -Float.infinity
                for j in 0..<k { maxLogit = max(maxLogit, zr[j]) }
                var sum: Float = 0
                for j in 0..<k { let e = expf(zr[j] - maxLogit); gr[j] = e; sum += e }
                total += Double(logf(sum) + maxLogit - zr[label])
                let scale = 1 / (sum * Float(n))
                for j in 0..<k { gr[j] *= scale }
                gr[label] -= 1 / Float(n)
            }
        }
    }
    return LossAndGradient(loss: Float(total / Double(n)), gradient: gradient)
}

/// Index of the largest logit per row of `[N, K]` logits.
public func argmaxRows(_ logits: Tensor) -> [Int] {
    precondition(logits.shape.count == 2, "argmaxRows needs [N, K], got \(logits.shape)")
    let (n, k) = (logits.shape[0], logits.shape[1])
    return logits.withUnsafeBufferPointer { z in
        (0..<n).map { row in
            var best = 0
            for j in 1..<max(k, 1) where z[row * k + j] > z[row * k + best] { best = j }
            return best
        }
    }
}
