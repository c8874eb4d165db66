import CloakTensor

/// Max pooling over NHWC `[N, H, W, C]` windows of `kernelSize`, moving by `stride`, padded (−∞) by `padding`.
/// Output `[N, OH, OW, C]`, `OH = 1 + (H + 2·padding − kernelSize) / stride`. No parameters.
public final class MaxPool2D: Layer {
    /// Window height and width (square windows only).
    public let kernelSize: Int
    /// Step between windows (defaults to `kernelSize`).
    public let stride: Int
    /// Positions past each border that windows may reach (they count as −∞); at most `kernelSize / 2`.
    public let padding: Int

    /// Forward cache for `backward`: the geometry and where in its window each maximum was.
    private var cachedGeometry: PoolingGeometry?
    private var cachedPositions: Tensor?

    /// Creates a max pooling; `stride` defaults to `kernelSize` (non-overlapping windows, as PyTorch).
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// Takes each window's maximum (see `Layer.forward(_:)`); caches the geometry and each maximum's position in its
    /// window.
    public func forward(_ input: Tensor) -> Tensor {
        let g = PoolingGeometry(inputShape: input.shape, kernelHeight: kernelSize, kernelWidth: kernelSize,
                                strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding)
        let (y, positions) = maxPool2dForward(input, geometry: g)
        cachedGeometry = g
        cachedPositions = positions
        return y
    }

    /// Sends each output gradient to the input position that held its window's maximum (see the `Layer` gradient
    /// contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        maxPool2dBackward(outputGradient: outputGradient, positions: cached(cachedPositions, "MaxPool2D"),
                          geometry: cached(cachedGeometry, "MaxPool2D"))
    }
}

/// Average pooling over NHWC `[N, H, W, C]`. `AvgPool2D.global()` averages each channel over the whole
/// image (`[N, 1, 1, C]`), as PyTorch's `AdaptiveAvgPool2d(1)` and dlib's `avg_pool_everything`.
/// With `countIncludesPadding` (PyTorch's default) padded positions count in the divisor. No parameters.
public final class AvgPool2D: Layer {
    /// Window size, or `nil` for global pooling.
    public let kernelSize: Int?
    /// Step between windows (defaults to `kernelSize`); unused by global pooling.
    public let stride: Int
    /// Zero padding on each side of height and width; at most `kernelSize / 2`; 0 for global pooling.
    public let padding: Int
    /// Whether padded positions count in the divisor (PyTorch's `count_include_pad`; always true for global pooling).
    public let countIncludesPadding: Bool

    /// Forward cache for `backward`: the geometry used.
    private var cachedGeometry: PoolingGeometry?

    /// Creates an average pooling over square windows; `stride` defaults to `kernelSize`.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, countIncludesPadding: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludesPadding = countIncludesPadding
    }

    private init(global: Void) {
        kernelSize = nil; stride = 1; padding = 0; countIncludesPadding = true
    }

    /// Global average pooling: `[N, H, W, C]` → `[N, 1, 1, C]`.
    public static func global() -> AvgPool2D { AvgPool2D(global: ()) }

    /// Averages each window, or each channel over the whole image for global pooling (see `Layer.forward(_:)`);
    /// caches the geometry.
    public func forward(_ input: Tensor) -> Tensor {
        precondition(input.shape.count == 4, "AvgPool2D expects NHWC input, got \(input.shape)")
        let g: PoolingGeometry
        if let k = kernelSize {
            g = PoolingGeometry(inputShape: input.shape, kernelHeight: k, kernelWidth: k, strideHeight: stride,
                                strideWidth: stride, paddingHeight: padding, paddingWidth: padding)
        } else {
            g = PoolingGeometry(inputShape: input.shape, kernelHeight: input.shape[1], kernelWidth: input.shape[2],
                                strideHeight: input.shape[1], strideWidth: input.shape[2])
        }
        cachedGeometry = g
        return avgPool2dForward(input, geometry: g, countIncludesPadding: countIncludesPadding)
    }

    /// Spreads each output gradient evenly over its window, with the forward's divisor (see the `Layer` gradient
    /// contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        avgPool2dBackward(outputGradient: outputGradient, geometry: cached(cachedGeometry, "AvgPool2D"),
                          countIncludesPadding: countIncludesPadding)
    }
}
