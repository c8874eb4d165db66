/// Max pooling over NHWC `[N, H, W, C]` windows of `kernelSize`, moving by `stride`, padded (−∞) by `padding`.
/// Output `[N, OH, OW, C]`, `OH = 1 + (H + 2·padding − kernelSize) / stride`. No parameters.
public final class MaxPool2D: Layer {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// Forward cache for `backward`: the geometry and where in its window each maximum was.
    private var cachedGeometry: PoolingGeometry?
    private var cachedPositions: Tensor?

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ input: Tensor) -> Tensor {
        let g = PoolingGeometry(inputShape: input.shape, kernelHeight: kernelSize, kernelWidth: kernelSize,
                                strideHeight: stride, strideWidth: stride, paddingHeight: padding, paddingWidth: padding)
        let (y, positions) = maxPool2dForward(input, geometry: g)
        cachedGeometry = g
        cachedPositions = positions
        return y
    }

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
    public let stride: Int
    public let padding: Int
    public let countIncludesPadding: Bool

    /// Forward cache for `backward`: the geometry used.
    private var cachedGeometry: PoolingGeometry?

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

    public func backward(_ outputGradient: Tensor) -> Tensor {
        avgPool2dBackward(outputGradient: outputGradient, geometry: cached(cachedGeometry, "AvgPool2D"),
                          countIncludesPadding: countIncludesPadding)
    }
}
