/// The shape and settings of one 2-D convolution.
///
/// Layouts: input `[N, H, W, C]` (NHWC), weight `[O, I, kH, kW]` (PyTorch's OIHW), bias `[O]`, output
/// `[N, OH, OW, O]`, with `OH = 1 + (H + 2·paddingHeight − kH) / strideHeight` (integer division, as PyTorch and
/// dlib). Padding is zero padding on both sides. The convolution is a cross-correlation (no kernel flip).
public struct ConvolutionGeometry: Hashable, Sendable {
    /// Batch size `N`.
    public let batch: Int
    /// Input height `H`.
    public let inputHeight: Int
    /// Input width `W`.
    public let inputWidth: Int
    /// Input channels `I`.
    public let inputChannels: Int
    /// Output channels `O`.
    public let outputChannels: Int
    /// Kernel height `kH`.
    public let kernelHeight: Int
    /// Kernel width `kW`.
    public let kernelWidth: Int
    /// Vertical step between windows.
    public let strideHeight: Int
    /// Horizontal step between windows.
    public let strideWidth: Int
    /// Zero rows added above and below the input.
    public let paddingHeight: Int
    /// Zero columns added left and right of the input.
    public let paddingWidth: Int
    /// Whether a bias `[O]` is added.
    public let hasBias: Bool

    /// Creates a geometry; sizes and strides must be positive and the kernel must fit in the padded input.
    public init(
        batch: Int, inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
        paddingHeight: Int = 0, paddingWidth: Int = 0, hasBias: Bool
    ) {
        precondition(batch > 0 && inputChannels > 0 && outputChannels > 0, "Convolution needs positive sizes")
        precondition(strideHeight > 0 && strideWidth > 0, "Convolution stride must be positive")
        precondition(inputHeight + 2 * paddingHeight >= kernelHeight && inputWidth + 2 * paddingWidth >= kernelWidth,
                     "Convolution kernel \(kernelHeight)x\(kernelWidth) is larger than the padded input "
                     + "\(inputHeight)x\(inputWidth) (padding \(paddingHeight), \(paddingWidth))")
        self.batch = batch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
        self.hasBias = hasBias
    }

    /// `OH = 1 + (H + 2·paddingHeight − kH) / strideHeight` (integer division).
    public var outputHeight: Int { 1 + (inputHeight + 2 * paddingHeight - kernelHeight) / strideHeight }
    /// `OW = 1 + (W + 2·paddingWidth − kW) / strideWidth` (integer division).
    public var outputWidth: Int { 1 + (inputWidth + 2 * paddingWidth - kernelWidth) / strideWidth }
    /// `[N, H, W, I]` (NHWC).
    public var inputShape: [Int] { [batch, inputHeight, inputWidth, inputChannels] }
    /// `[N, OH, OW, O]` (NHWC).
    public var outputShape: [Int] { [batch, outputHeight, outputWidth, outputChannels] }
    /// `[O, I, kH, kW]` (OIHW, PyTorch's layout).
    public var weightShape: [Int] { [outputChannels, inputChannels, kernelHeight, kernelWidth] }
    /// Elements in the weight, `O · I · kH · kW`.
    public var weightCount: Int { outputChannels * inputChannels * kernelHeight * kernelWidth }
}

/// Convolution forward: `y[n, oh, ow, o] = b[o] + Σ_{i, kh, kw} x[n, oh·s + kh − p, ow·s + kw − p, i] · w[o, i, kh, kw]`.
///
/// - Parameters:
///   - input: `[N, H, W, I]`, matching `geometry.inputShape`.
///   - weight: `[O, I, kH, kW]`.
///   - bias: `[O]`, or `nil` when `geometry.hasBias` is false.
/// - Returns: `[N, OH, OW, O]`.
/// Runs on oneDNN (direct algorithm, primitive cached per geometry).
public func conv2dForward(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry) -> Tensor {
    precondition(input.shape == g.inputShape, "conv2d input \(input.shape) does not match \(g.inputShape)")
    precondition(weight.shape == g.weightShape, "conv2d weight \(weight.shape) does not match \(g.weightShape)")
    precondition((bias != nil) == g.hasBias && (bias?.shape ?? [g.outputChannels]) == [g.outputChannels],
                 "conv2d bias does not match the geometry")
    return Tensor(shape: g.outputShape) { out in
        input.withUnsafeBufferPointer { x in
            weight.withUnsafeBufferPointer { w in
                if let bias {
                    bias.withUnsafeBufferPointer { b in
                        DNNLRuntime.shared.convolutionForward(
                            g, input: x.baseAddress!, weight: w.baseAddress!, weightToken: weight.contentToken,
                            bias: b.baseAddress!, output: out.baseAddress!)
                    }
                } else {
                    DNNLRuntime.shared.convolutionForward(
                        g, input: x.baseAddress!, weight: w.baseAddress!, weightToken: weight.contentToken,
                        bias: nil, output: out.baseAddress!)
                }
            }
        }
    }
}

/// Convolution input gradient: dL/dx `[N, H, W, I]` from dL/dy `[N, OH, OW, O]` and weight `[O, I, kH, kW]`.
public func conv2dBackwardInput(_ outputGradient: Tensor, weight: Tensor, geometry g: ConvolutionGeometry) -> Tensor {
    precondition(outputGradient.shape == g.outputShape,
                 "conv2d output gradient \(outputGradient.shape) does not match \(g.outputShape)")
    precondition(weight.shape == g.weightShape, "conv2d weight \(weight.shape) does not match \(g.weightShape)")
    return Tensor(shape: g.inputShape) { dx in
        outputGradient.withUnsafeBufferPointer { dy in
            weight.withUnsafeBufferPointer { w in
                DNNLRuntime.shared.convolutionBackwardData(
                    g, outputGradient: dy.baseAddress!, weight: w.baseAddress!, weightToken: weight.contentToken,
                    inputGradient: dx.baseAddress!)
            }
        }
    }
}

/// Convolution parameter gradients, **accumulated**: `weightGradient += dL/dw` (`[O, I, kH, kW]`) and, if given,
/// `biasGradient += dL/db` (`[O]`), from the forward input `[N, H, W, I]` and dL/dy `[N, OH, OW, O]`.
public func conv2dBackwardParameters(
    input: Tensor, outputGradient: Tensor, geometry g: ConvolutionGeometry,
    weightGradient: inout Tensor, biasGradient: inout Tensor?
) {
    precondition(input.shape == g.inputShape && outputGradient.shape == g.outputShape,
                 "conv2d backward shapes \(input.shape), \(outputGradient.shape) do not match the geometry")
    precondition(weightGradient.shape == g.weightShape, "conv2d weight gradient has the wrong shape")
    precondition((biasGradient != nil) == g.hasBias, "conv2d bias gradient must be given exactly when there is a bias")
    input.withUnsafeBufferPointer { x in
        outputGradient.withUnsafeBufferPointer { dy in
            weightGradient.withUnsafeMutableBufferPointer { dw in
                if biasGradient != nil {
                    biasGradient!.withUnsafeMutableBufferPointer { db in
                        DNNLRuntime.shared.convolutionBackwardWeights(
                            g, input: x.baseAddress!, outputGradient: dy.baseAddress!,
                            weightGradient: dw.baseAddress!, biasGradient: db.baseAddress!)
                    }
                } else {
                    DNNLRuntime.shared.convolutionBackwardWeights(
                        g, input: x.baseAddress!, outputGradient: dy.baseAddress!,
                        weightGradient: dw.baseAddress!, biasGradient: nil)
                }
            }
        }
    }
}

/// How many times each pass of a convolution geometry has run in this process.
public struct ConvolutionExecutionCounts: Sendable, Equatable {
    /// Forward convolutions run.
    public var forward = 0
    /// Input-gradient (backward-data) convolutions run.
    public var backwardData = 0
    /// Parameter-gradient (backward-weights) convolutions run.
    public var backwardWeights = 0
}

/// Execution counts for one convolution geometry (for tests and profiling).
public func convolutionExecutionCounts(for geometry: ConvolutionGeometry) -> ConvolutionExecutionCounts {
    DNNLRuntime.shared.executionCounts(for: geometry)
}

/// The version of the oneDNN library the engine runs on.
public var oneDNNVersion: String { DNNLRuntime.shared.version }
