// Batch normalisation (optionally followed by ReLU) over the innermost channel axis, on oneDNN's
// batch-normalization primitive (multithreaded, NHWC; the ReLU is fused into the same passes and its mask kept
// in a small workspace for the backward pass).

/// What a batch-norm forward pass saves for its backward pass.
public struct BatchNormalizationState: Sendable {
    /// Per-channel mean used to normalise (`[C]`): the batch mean, or the running mean given to the forward.
    public let mean: Tensor
    /// Per-channel variance used to normalise (`[C]`): the biased batch variance, or the running variance.
    public let variance: Tensor
    /// Whether `mean` and `variance` were computed from the batch (training) rather than given.
    public let usedBatchStatistics: Bool
    /// Whether a ReLU followed the normalisation in the same kernel.
    public let fusedReLU: Bool
    let key: BatchNormalizationKey
    /// oneDNN's record of where the fused ReLU was active (bytes packed into floats); nil without ReLU.
    let workspace: Tensor?
}

/// oneDNN dims `[N, C, H, W]` for an NHWC tensor, or `[rows, C, 1, 1]` for `[..., C]` of another rank
/// (the same memory layout: per-channel statistics run over every outer position either way).
private func batchNormalizationDims(_ shape: [Int]) -> [Int] {
    let c = shape.last ?? 0
    if shape.count == 4 { return [shape[0], c, shape[1], shape[2]] }
    return [c == 0 ? 0 : shape.reduce(1, *) / c, c, 1, 1]
}

/// Batch normalisation forward, `y = γ · (x − μ) / √(σ² + ε) + β` per channel (innermost axis), followed by
/// `max(y, 0)` when `fusingReLU`.
///
/// - Parameters:
///   - x: NHWC `[N, H, W, C]` or `[N, C]`.
///   - scale: γ, `[C]`. shift: β, `[C]`.
///   - runningStatistics: the running mean and variance (`[C]` each) to normalise with (inference), or `nil` to
///     use the batch mean and biased batch variance (training); the returned state holds the ones used.
public func batchNormalizationForward(
    _ x: Tensor, scale: Tensor, shift: Tensor, epsilon: Float,
    runningStatistics: (mean: Tensor, variance: Tensor)?, fusingReLU: Bool
) -> (output: Tensor, state: BatchNormalizationState) {
    let c = x.shape.last ?? 0
    precondition(c > 0 && scale.count == c && shift.count == c,
                 "batchNormalizationForward needs \(c) scales and shifts for input \(x.shape)")
    let key = BatchNormalizationKey(dims: batchNormalizationDims(x.shape), epsilon: epsilon,
                                    globalStatistics: runningStatistics != nil, fuseReLU: fusingReLU)
    var mean = Tensor(zeros: [c]), variance = Tensor(zeros: [c])
    if let runningStatistics {
        precondition(runningStatistics.mean.count == c && runningStatistics.variance.count == c,
                     "batchNormalizationForward needs \(c) running means and variances")
        mean = runningStatistics.mean.reshaped([c])
        variance = runningStatistics.variance.reshaped([c])
    }
    let workspaceBytes = DNNLRuntime.shared.batchNormalizationWorkspaceBytes(key)
    var workspace: Tensor? = workspaceBytes > 0 ? Tensor(zeros: [(workspaceBytes + 3) / 4]) : nil
    let y = Tensor(shape: x.shape) { out in
        x.withUnsafeBufferPointer { xb in
            scale.withUnsafeBufferPointer { sb in
                shift.withUnsafeBufferPointer { tb in
                    mean.withUnsafeMutableBufferPointer { mb in
                        variance.withUnsafeMutableBufferPointer { vb in
                            func run(_ ws: UnsafeMutablePointer<Float>?) {
                                DNNLRuntime.shared.batchNormalizationForward(
                                    key, input: xb.baseAddress!, scale: sb.baseAddress!, shift: tb.baseAddress!,
                                    mean: mb.baseAddress!, variance: vb.baseAddress!, output: out.baseAddress!,
                                    workspace: ws)
                            }
                            if workspace != nil {
                                workspace!.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
                            } else {
                                run(nil)
                            }
                        }
                    }
                }
            }
        }
    }
    let state = BatchNormalizationState(mean: mean, variance: variance, usedBatchStatistics: runningStatistics == nil,
                                        fusedReLU: fusingReLU, key: key, workspace: workspace)
    return (y, state)
}

/// Batch normalisation backward (through the fused ReLU if the forward had one).
///
/// Returns dL/dx (`x`'s shape) and, when `parameterGradients`, dL/dγ and dL/dβ (`[C]`). With batch statistics the
/// gradient flows through μ and σ² as well; with running statistics they are constants.
public func batchNormalizationBackward(
    outputGradient: Tensor, input: Tensor, scale: Tensor, state: BatchNormalizationState, parameterGradients: Bool
) -> (inputGradient: Tensor, scaleGradient: Tensor?, shiftGradient: Tensor?) {
    precondition(outputGradient.shape == input.shape && batchNormalizationDims(input.shape) == state.key.dims,
                 "batchNormalizationBackward shapes \(outputGradient.shape), \(input.shape) do not match the forward")
    let c = state.key.channels
    var scaleGradient: Tensor? = parameterGradients ? Tensor(zeros: [c]) : nil
    var shiftGradient: Tensor? = parameterGradients ? Tensor(zeros: [c]) : nil
    let dx = Tensor(shape: input.shape) { dx in
        input.withUnsafeBufferPointer { xb in
            outputGradient.withUnsafeBufferPointer { db in
                scale.withUnsafeBufferPointer { sb in
                    state.mean.withUnsafeBufferPointer { mb in
                        state.variance.withUnsafeBufferPointer { vb in
                            func run(_ ws: UnsafePointer<Float>?, _ dScale: UnsafeMutablePointer<Float>?,
                                     _ dShift: UnsafeMutablePointer<Float>?) {
                                DNNLRuntime.shared.batchNormalizationBackward(
                                    state.key, input: xb.baseAddress!, outputGradient: db.baseAddress!,
                                    scale: sb.baseAddress!, shift: sb.baseAddress!, mean: mb.baseAddress!,
                                    variance: vb.baseAddress!, workspace: ws, inputGradient: dx.baseAddress!, scaleGradient: dScale,
                                    shiftGradient: dShift)
                            }
                            func withWorkspace(_ dScale: UnsafeMutablePointer<Float>?,
                                               _ dShift: UnsafeMutablePointer<Float>?) {
                                if let workspace = state.workspace {
                                    workspace.withUnsafeBufferPointer { run($0.baseAddress!, dScale, dShift) }
                                } else {
                                    run(nil, dScale, dShift)
                                }
                            }
                            if parameterGradients {
                                scaleGradient!.withUnsafeMutableBufferPointer { gs in
                                    shiftGradient!.withUnsafeMutableBufferPointer { gt in
                                        withWorkspace(gs.baseAddress!, gt.baseAddress!)
                                    }
                                }
                            } else {
                                withWorkspace(nil, nil)
                            }
                        }
                    }
                }
            }
        }
    }
    return (dx, scaleGradient, shiftGradient)
}
