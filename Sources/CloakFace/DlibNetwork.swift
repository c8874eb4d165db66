/// A dlib deep network as stored in a model file (`dlib::serialize(net)`), in plain values.
///
/// The file holds the layer *sequence*, not the wiring of tags and skips (that is only in dlib's C++
/// types), so ``layers`` keeps a ``DlibLayer/tagOrSkip`` marker wherever the network had an `add_tag_layer`
/// or `add_skip_layer`; the engine that builds the network hard-codes which is which. All weights are
/// float32 as stored.
///
/// Read one with ``DlibNetwork/load(path:)`` (see `DlibNetworkParser.swift` for the byte layout).
public struct DlibNetwork: Sendable, Equatable {
    /// The loss layer on top.
    public var loss: DlibLoss
    /// The input layer at the bottom.
    public var input: DlibInput
    /// Layers bottom-up: `layers[0]` reads the input, the last feeds the loss.
    public var layers: [DlibLayer]

    public init(loss: DlibLoss, input: DlibInput, layers: [DlibLayer]) {
        self.loss = loss
        self.input = input
        self.layers = layers
    }

    /// Number of stored float32 parameters in all layers.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }
}

/// Per-channel means dlib subtracts from 8-bit RGB input; the network sees `(pixel - mean) / 256`.
public struct RGBMean: Sendable, Equatable {
    public var red: Float
    public var green: Float
    public var blue: Float

    public init(red: Float, green: Float, blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}

/// The input layer of a dlib network.
public enum DlibInput: Sendable, Equatable {
    /// `input_rgb_image_sized<rows, columns>`: one fixed-size RGB image per sample.
    case rgbImageSized(mean: RGBMean, rows: Int, columns: Int)
    /// `input_rgb_image_pyramid`: the image and its `pyramid_down<6>` levels tiled into one plane;
    /// paddings are dlib's defaults (10, 11) for files written before they were stored.
    case rgbImagePyramid(mean: RGBMean, pyramidPadding: Int, outerPadding: Int)
}

/// An axis-aligned box overlap test (`dlib::test_box_overlap`): two boxes overlap when their
/// intersection divided by the area of their common bounding box (dlib's "outer" area, not the union)
/// exceeds `iouThreshold`, or when the intersection covers more than `coveredThreshold` of either box.
public struct BoxOverlapTest: Sendable, Equatable {
    public var iouThreshold: Double
    public var coveredThreshold: Double

    public init(iouThreshold: Double, coveredThreshold: Double) {
        self.iouThreshold = iouThreshold
        self.coveredThreshold = coveredThreshold
    }

    /// dlib's test on two inclusive integer boxes.
    public func overlaps(_ a: FaceBox, _ b: FaceBox) -> Bool {
        let inner = Double(a.intersection(b).area)
        if inner == 0 { return false }
        let outer = Double(FaceBox(left: min(a.left, b.left), top: min(a.top, b.top),
                                   right: max(a.right, b.right), bottom: max(a.bottom, b.bottom)).area)
        return inner / outer > iouThreshold || inner / Double(a.area) > coveredThreshold
            || inner / Double(b.area) > coveredThreshold
    }
}

/// The loss layer on top of a dlib network.
public enum DlibLoss: Sendable, Equatable {
    /// `loss_metric_`: pairwise hinge on Euclidean distance; same identity when distance < threshold.
    case metric(margin: Float, distanceThreshold: Float)
    /// `loss_mmod_`: max-margin object detection with one sliding window.
    case mmod(MMODOptions)
}

/// Settings of dlib's MMOD loss as stored (`mmod_options` version 1).
public struct MMODOptions: Sendable, Equatable {
    /// Detection window in pixels of the pyramid level that produced it.
    public var windowWidth: Int
    public var windowHeight: Int
    public var lossPerFalseAlarm: Double
    public var lossPerMissedTarget: Double
    public var truthMatchIoUThreshold: Double
    /// Non-max suppression test used when turning the score map into boxes.
    public var nonMaxSuppression: BoxOverlapTest
    public var ignore: BoxOverlapTest

    public init(windowWidth: Int, windowHeight: Int, lossPerFalseAlarm: Double, lossPerMissedTarget: Double,
                truthMatchIoUThreshold: Double, nonMaxSuppression: BoxOverlapTest, ignore: BoxOverlapTest) {
        self.windowWidth = windowWidth
        self.windowHeight = windowHeight
        self.lossPerFalseAlarm = lossPerFalseAlarm
        self.lossPerMissedTarget = lossPerMissedTarget
        self.truthMatchIoUThreshold = truthMatchIoUThreshold
        self.nonMaxSuppression = nonMaxSuppression
        self.ignore = ignore
    }
}

/// One computational layer of a dlib network, with its settings and float32 weights.
public enum DlibLayer: Sendable, Equatable {
    /// An `add_tag_layer` or `add_skip_layer` wrapper (indistinguishable in the file).
    case tagOrSkip
    case convolution(DlibConvolution)
    case affine(DlibAffine)
    case batchNorm(DlibBatchNorm)
    case relu
    case maxPool(DlibPooling)
    case avgPool(DlibPooling)
    /// `add_prev`: element-wise sum with a tagged earlier output, zero-padded to the larger shape.
    case addPrevious
    case fullyConnected(DlibFullyConnected)

    /// Number of stored float32 parameters.
    public var parameterCount: Int {
        switch self {
        case .convolution(let c): return c.weights.count + (c.bias?.count ?? 0)
        case .affine(let a): return a.gamma.count + a.beta.count
        case .batchNorm(let b): return b.gamma.count + b.beta.count
        case .fullyConnected(let f): return f.weights.count + (f.bias?.count ?? 0)
        default: return 0
        }
    }
}

/// A 2-D convolution (`con_`), cross-correlation without kernel flip.
///
/// Output size per axis: `1 + (input + 2 * padding - kernel) / stride` (integer division).
public struct DlibConvolution: Sendable, Equatable {
    public var filterCount: Int
    public var inputChannels: Int
    public var kernelRows: Int
    public var kernelColumns: Int
    public var strideY: Int
    public var strideX: Int
    public var paddingY: Int
    public var paddingX: Int
    /// Layout `[filterCount][inputChannels][kernelRows][kernelColumns]` row-major (KCHW).
    public var weights: [Float]
    /// `filterCount` biases, or `nil` for a convolution without bias.
    public var bias: [Float]?
    /// dlib's fused ReLU flag (`con_6`); false in older files.
    public var fusedReLU: Bool
}

/// A per-channel (or per-element) affine map `y = gamma * x + beta` (`affine_`).
public struct DlibAffine: Sendable, Equatable {
    /// True for dlib's CONV_MODE (one gamma/beta per channel); false for FC_MODE (per element).
    public var perChannel: Bool
    public var gamma: [Float]
    public var beta: [Float]
}

/// A batch-normalisation layer (`bn_`) with its running statistics.
public struct DlibBatchNorm: Sendable, Equatable {
    public var perChannel: Bool
    public var gamma: [Float]
    public var beta: [Float]
    public var runningMeans: [Float]
    public var runningVariances: [Float]
    public var epsilon: Double

    /// The inference-time affine map: `gamma' = gamma / sqrt(var + eps)`, `beta' = beta - gamma' * mean`.
    public var folded: DlibAffine {
        var g = gamma, b = beta
        for i in g.indices {
            let scale = Double(gamma[i]) / (Double(runningVariances[i]) + epsilon).squareRoot()
            g[i] = Float(scale)
            b[i] = Float(Double(beta[i]) - scale * Double(runningMeans[i]))
        }
        return DlibAffine(perChannel: perChannel, gamma: g, beta: b)
    }
}

/// Max or average pooling. `rows == 0 && columns == 0` means "the whole input" (global pooling).
public struct DlibPooling: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var strideY: Int
    public var strideX: Int
    public var paddingY: Int
    public var paddingX: Int

    /// True for dlib's pool-everything form.
    public var isGlobal: Bool { rows == 0 && columns == 0 }
}

/// A fully connected layer (`fc_`): `y[o] = sum_i x[i] * weights[i][o] (+ bias[o])`.
public struct DlibFullyConnected: Sendable, Equatable {
    public var outputs: Int
    public var inputs: Int
    /// Layout `[inputs][outputs]` row-major (note: input-major, unlike PyTorch).
    public var weights: [Float]
    public var bias: [Float]?
}
