import CloakImage
import CloakNN
import CloakTensor

/// dlib's ResNet face descriptor (`dlib_face_recognition_resnet_model_v1.dat`) on Cloak's engine: 150x150
/// RGB chips in, 128-D descriptors out, with the gradient of any descriptor loss back onto the chips.
///
/// ## Input
/// Chips are ``FloatRGBImage``s (HWC, 0...255 units, `chipSize x chipSize`), as ``FaceChipExtractor`` or
/// ``ChipWarp`` make them. The network sees dlib's `input_rgb_image_sized` tensor, here in NHWC
/// `[N, 150, 150, 3]`: `(value - mean[c]) / 256` with the per-channel means stored in the file
/// (R 122.782, G 117.001, B 104.298), exactly as dlib's `input_rgb_image_sized::to_tensor`.
///
/// ## Output
/// `[N, 128]` descriptors, not normalised (dlib's `loss_metric` returns the fc output as is); two chips
/// show the same person when their Euclidean distance is below ``distanceThreshold`` (0.6).
///
/// ## Gradients
/// The weights are frozen (`setRequiresGradient(false)`), so ``chipGradients(_:)`` runs only the
/// input-gradient kernels. It needs the preceding ``descriptors(of:)`` call (the layers cache their forward
/// state), so one embedder serves one optimisation at a time: it is a class and not `Sendable`.
public final class FaceEmbedder {
    /// The model file name under `Datasets/dlib-models/` (see `scripts/fetch-face-data.sh`).
    public static let fileName = "dlib_face_recognition_resnet_model_v1.dat"

    /// The network on CloakNN layers: stem, 15 residual blocks, global average pool, flatten, fc.
    public let network: Sequential
    /// Per-channel means subtracted from the chip before dividing by 256.
    public let mean: RGBMean
    /// Chip side the network expects (150).
    public let chipSize: Int
    /// Descriptor length (128).
    public let descriptorLength: Int
    /// dlib's same-person threshold on the descriptor distance, from the file's `loss_metric` (0.6).
    public let distanceThreshold: Float

    /// Loads and builds the network from a dlib model file.
    ///
    /// - Throws: ``DlibFormatError`` when the file cannot be read or parsed, ``FaceEmbedderError`` when it
    ///   holds another network than dlib's face descriptor.
    public convenience init(contentsOf path: String) throws {
        try self.init(network: DlibNetwork.load(path: path), path: path)
    }

    /// Builds the network from a parsed dlib face-descriptor model; `path` names it in errors.
    ///
    /// The file stores the layer sequence bottom-up with markers where dlib's tag and skip layers were; the
    /// wiring is recognised from that sequence (dlib `tools/python/src/face_recognition.cpp`):
    /// ```
    /// stem:  con 7x7/2 · affine · relu · max_pool 3x3/2
    /// plain: T · con · affine · relu · con · affine · add_prev · relu              out = relu(x + block(x))
    /// down:  T · con/2 · affine · relu · con · affine · T · T · avg_pool 2x2/2 · add_prev · relu
    ///                                                                  out = relu(block(x) + avgpool(x))
    /// head:  avg_pool (whole input) · fc (no bias)
    /// ```
    /// `add_prev` zero-pads the smaller branch (channels and rows/columns) as ``Residual`` does; dlib's `bn`
    /// layers, if a file has them, are used in inference form (``DlibBatchNorm/folded``).
    /// - Throws: ``FaceEmbedderError`` when the layers are not that network.
    public init(network file: DlibNetwork, path: String = "face descriptor model") throws {
        guard case .metric(_, let threshold) = file.loss,
              case .rgbImageSized(let mean, let rows, let columns) = file.input, rows == columns else {
            throw FaceEmbedderError.unexpectedNetwork(path: path, expected: "loss_metric over input_rgb_image_sized",
                                                      found: "\(file.loss) over \(file.input)")
        }
        var builder = DescriptorNetworkBuilder(layers: file.layers, path: path)
        network = try builder.build()
        self.mean = mean
        self.chipSize = rows
        self.distanceThreshold = threshold
        self.descriptorLength = builder.outputCount
        network.setTraining(false)
        network.setRequiresGradient(false)
    }

    /// The network input for a batch of chips: NHWC `[N, chipSize, chipSize, 3]`, `(value - mean[c]) / 256`.
    public func inputTensor(for chips: [FloatRGBImage]) -> Tensor {
        precondition(!chips.isEmpty, "FaceEmbedder needs at least one chip")
        let plane = chipSize * chipSize
        let means = [mean.red, mean.green, mean.blue]
        return Tensor(shape: [chips.count, chipSize, chipSize, 3]) { out in
            for (n, chip) in chips.enumerated() {
                precondition(chip.width == chipSize && chip.height == chipSize,
                             "FaceEmbedder expects \(chipSize)x\(chipSize) chips, got \(chip.width)x\(chip.height)")
                chip.values.withUnsafeBufferPointer { v in
                    let base = n * plane * 3
                    for i in 0..<plane {
                        for c in 0..<3 { out[base + 3 * i + c] = (v[3 * i + c] - means[c]) / 256 }
                    }
                }
            }
        }
    }

    /// Descriptors `[N, descriptorLength]` of a batch of chips; caches what ``chipGradients(_:)`` needs.
    public func descriptors(of chips: [FloatRGBImage]) -> Tensor {
        network.forward(inputTensor(for: chips))
    }

    /// The descriptor of one 8-bit chip, as dlib's `compute_face_descriptor(chip)`.
    public func descriptor(of chip: RGBImage) -> [Float] {
        descriptors(of: [FloatRGBImage(chip)]).scalars
    }

    /// The gradient of a loss with respect to the chips of the last ``descriptors(of:)`` call, given its
    /// gradient with respect to the descriptors (`[N, descriptorLength]`). Chips in 0...255 units, HWC.
    public func chipGradients(_ descriptorGradient: Tensor) -> [FloatRGBImage] {
        let inputGradient = network.backward(descriptorGradient)
        let n = inputGradient.shape[0], count = chipSize * chipSize * 3
        return inputGradient.withUnsafeBufferPointer { g in
            (0..<n).map { i in
                FloatRGBImage(width: chipSize, height: chipSize,
                              values: g[(i * count)..<((i + 1) * count)].map { $0 / 256 })
            }
        }
    }
}

/// Recognises dlib's face-descriptor wiring in a layer sequence and builds it on CloakNN layers.
private struct DescriptorNetworkBuilder {
    let layers: [DlibLayer]
    let path: String
    var index = 0
    var outputCount = 0
    /// A throwaway generator for the layer initialisers; every weight is overwritten from the file.
    var generator = SplitMix64(seed: 0)

    init(layers: [DlibLayer], path: String) {
        self.layers = layers
        self.path = path
    }

    mutating func build() throws -> Sequential {
        var parts: [(name: String, layer: any Layer)] = []
        // Stem.
        let stemConv = try convolution()
        parts.append(("stem", Sequential([stemConv, try affine(), try relu(), try maxPool()])))
        var blockIndex = 0
        while index < layers.count, layers[index] == .tagOrSkip {
            parts.append(("block\(blockIndex)", try residualBlock()))
            blockIndex += 1
        }
        guard case .avgPool(let pool) = try next("avg_pool (whole input)"), pool.isGlobal else {
            throw mismatch("avg_pool over the whole input", at: index - 1)
        }
        parts.append(("pool", AvgPool2D.global()))
        parts.append(("flatten", Flatten()))
        guard case .fullyConnected(let fc) = try next("fc") else { throw mismatch("fc", at: index - 1) }
        let linear = Linear(inputCount: fc.inputs, outputCount: fc.outputs, bias: fc.bias != nil, using: &generator)
        // dlib stores [inputs][outputs]; Linear wants [outputs][inputs].
        var w = [Float](repeating: 0, count: fc.inputs * fc.outputs)
        for i in 0..<fc.inputs {
            for o in 0..<fc.outputs { w[o * fc.inputs + i] = fc.weights[i * fc.outputs + o] }
        }
        linear.weight.value = Tensor(shape: [fc.outputs, fc.inputs], scalars: w)
        if let bias = fc.bias, let b = linear.bias { b.value = Tensor(shape: [fc.outputs], scalars: bias) }
        parts.append(("fc", linear))
        outputCount = fc.outputs
        guard index == layers.count else { throw mismatch("the end of the network", at: index) }
        return Sequential(named: parts)
    }

    /// `T · con · affine · relu · con · affine · add_prev · relu` or the down-sampling form with
    /// `T · T · avg_pool` before the `add_prev`.
    mutating func residualBlock() throws -> Layer {
        _ = try next("tag")
        let block = Sequential([try convolution(), try affine(), try relu(), try convolution(), try affine()])
        var shortcut: (any Layer)?
        if index < layers.count, layers[index] == .tagOrSkip {
            _ = try next("tag"); _ = try next("skip")
            guard case .avgPool(let p) = try next("avg_pool"), !p.isGlobal,
                  p.rows == p.columns, p.strideY == p.strideX, p.paddingY == p.paddingX else {
                throw mismatch("a square avg_pool on the skip path", at: index - 1)
            }
            shortcut = AvgPool2D(kernelSize: p.rows, stride: p.strideY, padding: p.paddingY)
        }
        guard case .addPrevious = try next("add_prev") else { throw mismatch("add_prev", at: index - 1) }
        let residual = Residual(main: block, shortcut: shortcut)
        return Sequential(named: [("residual", residual), ("relu", try relu())])
    }

    mutating func convolution() throws -> Conv2D {
        guard case .convolution(let c) = try next("con") else { throw mismatch("con", at: index - 1) }
        guard c.kernelRows == c.kernelColumns, c.strideY == c.strideX, c.paddingY == c.paddingX, !c.fusedReLU else {
            throw mismatch("a square con without fused relu", at: index - 1)
        }
        let conv = Conv2D(inputChannels: c.inputChannels, outputChannels: c.filterCount, kernelSize: c.kernelRows,
                          stride: c.strideY, padding: c.paddingY, bias: c.bias != nil, using: &generator)
        // Both are [filters][channels][rows][columns].
        conv.weight.value = Tensor(shape: [c.filterCount, c.inputChannels, c.kernelRows, c.kernelColumns],
                                   scalars: c.weights)
        if let bias = c.bias, let b = conv.bias { b.value = Tensor(shape: [c.filterCount], scalars: bias) }
        return conv
    }

    mutating func affine() throws -> Affine {
        let a: DlibAffine
        switch try next("affine") {
        case .affine(let x): a = x
        case .batchNorm(let bn): a = bn.folded
        default: throw mismatch("affine or bn", at: index - 1)
        }
        guard a.perChannel else { throw mismatch("a per-channel affine", at: index - 1) }
        let layer = Affine(featureCount: a.gamma.count)
        layer.weight.value = Tensor(shape: [a.gamma.count], scalars: a.gamma)
        layer.bias.value = Tensor(shape: [a.beta.count], scalars: a.beta)
        return layer
    }

    mutating func relu() throws -> ReLU {
        guard case .relu = try next("relu") else { throw mismatch("relu", at: index - 1) }
        return ReLU()
    }

    mutating func maxPool() throws -> MaxPool2D {
        guard case .maxPool(let p) = try next("max_pool"), !p.isGlobal, p.rows == p.columns,
              p.strideY == p.strideX, p.paddingY == p.paddingX else {
            throw mismatch("a square max_pool", at: index - 1)
        }
        return MaxPool2D(kernelSize: p.rows, stride: p.strideY, padding: p.paddingY)
    }

    mutating func next(_ expected: String) throws -> DlibLayer {
        guard index < layers.count else { throw mismatch(expected, at: index) }
        defer { index += 1 }
        return layers[index]
    }

    func mismatch(_ expected: String, at position: Int) -> FaceEmbedderError {
        let found = position < layers.count ? String("\(layers[position])".prefix(60)) : "the end of the layers"
        return .unexpectedNetwork(path: path, expected: "\(expected) at layer \(position)", found: found)
    }
}
