/// Parsing of `serialize(net)` files (`dlib/dnn/core.h`, `layers.h`, `loss.h`, `input.h`).
///
/// File order:
/// 1. `add_loss_layer`: integer 1, then the loss details (`loss_metric_2`: float margin, float distance
///    threshold; `loss_mmod_`: `mmod_options`).
/// 2. One version integer per wrapper, **top-down** (each wrapper writes its version before recursing):
///    2 = `add_layer`, 1 = `add_tag_layer`/`add_skip_layer`, 3 = the bottom `add_layer` on the input.
/// 3. The input layer (type string and settings).
/// 4. Bottom-up, for each version 2/3 wrapper: the layer details (type string, settings, parameter tensor),
///    3 bools, 3 (empty) tensors and, for version 3, one more integer. Tag/skip wrappers write nothing here.
/// 5. End of file.
extension DlibNetwork {
    /// Reads and parses a dlib network file; fails unless the whole file is one network.
    public static func load(path: String) throws -> DlibNetwork {
        var reader = try DlibReader(contentsOf: path)
        return try parse(&reader)
    }

    /// Parses a dlib network from `reader`, which must end exactly after it.
    public static func parse(_ reader: inout DlibReader) throws -> DlibNetwork {
        try reader.expectInteger(1, "add_loss_layer version")
        let loss = try parseLoss(&reader)

        var versions: [Int64] = []
        while true {
            let start = reader.offset
            let version = try reader.readInteger("layer wrapper version (1, 2 or 3)")
            guard (1...3).contains(version) else {
                throw DlibFormatError.invalid(path: reader.path, offset: start,
                                              expected: "layer wrapper version (1, 2 or 3)", found: "\(version)")
            }
            versions.append(version)
            if version == 3 { break }
            guard versions.count < 100_000 else { throw reader.invalid("the bottom layer (version 3)", found: "none") }
        }

        let input = try parseInput(&reader)
        var layers: [DlibLayer] = []
        for version in versions.reversed() {
            if version == 1 { layers.append(.tagOrSkip); continue }
            layers.append(try parseLayer(&reader))
            for name in ["this_layer_setup_called", "gradient_input_is_stale", "get_output_and_gradient_input_disabled"] {
                _ = try reader.readBool(name)
            }
            for name in ["x_grad", "cached_output", "params_grad"] { _ = try reader.readTensor(name) }
            if version == 3 { _ = try reader.readInteger("sample_expansion_factor") }
        }
        try reader.expectEnd()
        return DlibNetwork(loss: loss, input: input, layers: layers)
    }

    // MARK: - Loss and input

    private static func parseLoss(_ r: inout DlibReader) throws -> DlibLoss {
        let kind = try r.expectString(["loss_metric_2", "loss_metric_", "loss_mmod_"], "loss layer type")
        switch kind {
        case "loss_metric_2":
            let margin = try r.readFloat("loss_metric margin")
            let threshold = try r.readFloat("loss_metric distance threshold")
            return .metric(margin: margin, distanceThreshold: threshold)
        case "loss_metric_":
            return .metric(margin: 0.04, distanceThreshold: 0.6)
        default:
            try r.expectInteger(1, "mmod_options version")
            let width = try r.readCount("mmod detector window width")
            let height = try r.readCount("mmod detector window height")
            let falseAlarm = try r.readDouble("mmod loss_per_false_alarm")
            let missed = try r.readDouble("mmod loss_per_missed_target")
            let iou = try r.readDouble("mmod truth_match_iou_threshold")
            let nms = BoxOverlapTest(iouThreshold: try r.readDouble("mmod overlaps_nms IoU"),
                                     coveredThreshold: try r.readDouble("mmod overlaps_nms covered"))
            let ignore = BoxOverlapTest(iouThreshold: try r.readDouble("mmod overlaps_ignore IoU"),
                                        coveredThreshold: try r.readDouble("mmod overlaps_ignore covered"))
            return .mmod(MMODOptions(windowWidth: width, windowHeight: height, lossPerFalseAlarm: falseAlarm,
                                     lossPerMissedTarget: missed, truthMatchIoUThreshold: iou,
                                     nonMaxSuppression: nms, ignore: ignore))
        }
    }

    private static func parseInput(_ r: inout DlibReader) throws -> DlibInput {
        let kind = try r.expectString(["input_rgb_image_sized", "input_rgb_image_pyramid", "input_rgb_image_pyramid2"],
                                      "input layer type")
        let mean = RGBMean(red: try r.readFloat("input mean red"), green: try r.readFloat("input mean green"),
                           blue: try r.readFloat("input mean blue"))
        switch kind {
        case "input_rgb_image_sized":
            return .rgbImageSized(mean: mean, rows: try r.readCount("input rows"), columns: try r.readCount("input columns"))
        case "input_rgb_image_pyramid2":
            return .rgbImagePyramid(mean: mean, pyramidPadding: try r.readCount("pyramid padding"),
                                    outerPadding: try r.readCount("pyramid outer padding"))
        default:
            return .rgbImagePyramid(mean: mean, pyramidPadding: 10, outerPadding: 11)
        }
    }

    // MARK: - Layers

    private static let layerTypes = ["con_4", "con_5", "con_6", "affine_", "affine_2", "bn_con2", "bn_fc2", "relu_",
                                     "relu_2", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2", "fc_3"]

    private static func parseLayer(_ r: inout DlibReader) throws -> DlibLayer {
        let kind = try r.expectString(layerTypes, "layer type")
        switch kind {
        case "con_4", "con_5", "con_6": return .convolution(try parseConvolution(&r, kind: kind))
        case "affine_", "affine_2":
            let layerStart = r.offset
            let params = try r.readTensor("affine params")
            let (gamma, beta) = try twoParts(params, first: try r.readAliasShape("affine gamma"),
                                             second: try r.readAliasShape("affine beta"), at: layerStart, in: r)
            let mode = try r.readCount("affine mode (0 conv, 1 fc)", limit: 1)
            if kind == "affine_2", try r.readBool("affine disabled") {
                throw r.invalid("an enabled affine layer", found: "a disabled one")
            }
            return .affine(DlibAffine(perChannel: mode == 0, gamma: gamma, beta: beta))
        case "bn_con2", "bn_fc2":
            let layerStart = r.offset
            let params = try r.readTensor("bn params")
            let (gamma, beta) = try twoParts(params, first: try r.readAliasShape("bn gamma"),
                                             second: try r.readAliasShape("bn beta"), at: layerStart, in: r)
            _ = try r.readTensor("bn means")
            _ = try r.readTensor("bn invstds")
            let runningMeans = try r.readTensor("bn running_means").values
            let runningVariances = try r.readTensor("bn running_variances").values
            guard runningMeans.count == gamma.count, runningVariances.count == gamma.count else {
                throw r.invalid("\(gamma.count) running statistics", found: "\(runningMeans.count), \(runningVariances.count)")
            }
            _ = try r.readUnsigned("bn num_updates")
            _ = try r.readUnsigned("bn running_stats_window_size")
            for name in ["learning rate", "weight decay", "bias learning rate", "bias weight decay"] {
                _ = try r.readDouble("bn \(name) multiplier")
            }
            let eps = try r.readDouble("bn eps")
            return .batchNorm(DlibBatchNorm(perChannel: kind == "bn_con2", gamma: gamma, beta: beta,
                                            runningMeans: runningMeans, runningVariances: runningVariances, epsilon: eps))
        case "relu_", "relu_2":
            if kind == "relu_2", try r.readBool("relu disabled") {
                throw r.invalid("an enabled relu layer", found: "a disabled one")
            }
            return .relu
        case "max_pool_2", "avg_pool_2":
            let v = try (0..<6).map { i in
                try r.readCount(["pool rows", "pool columns", "stride y", "stride x", "padding y", "padding x"][i])
            }
            let pool = DlibPooling(rows: v[0], columns: v[1], strideY: v[2], strideX: v[3], paddingY: v[4], paddingX: v[5])
            return kind == "max_pool_2" ? .maxPool(pool) : .avgPool(pool)
        case "add_prev_":
            return .addPrevious
        default:
            return .fullyConnected(try parseFullyConnected(&r, kind: kind))
        }
    }

    private static func parseConvolution(_ r: inout DlibReader, kind: String) throws -> DlibConvolution {
        let layerStart = r.offset
        let params = try r.readTensor("con params")
        let filterCount = try r.readCount("con num_filters")
        let rows = try r.readCount("con kernel rows"), columns = try r.readCount("con kernel columns")
        let strideY = try r.readCount("con stride y"), strideX = try r.readCount("con stride x")
        let paddingY = try r.readCount("con padding y"), paddingX = try r.readCount("con padding x")
        let filterShape = try r.readAliasShape("con filters")
        let biasShape = try r.readAliasShape("con biases")
        for name in ["learning rate", "weight decay", "bias learning rate", "bias weight decay"] {
            _ = try r.readDouble("con \(name) multiplier")
        }
        var useBias = true, fusedReLU = false
        if kind != "con_4" { useBias = try r.readBool("con use_bias") }
        if kind == "con_6" { fusedReLU = try r.readBool("con use_relu") }
        guard filterShape[0] == filterCount, filterShape[2] == rows, filterShape[3] == columns else {
            throw DlibFormatError.invalid(path: r.path, offset: layerStart, expected: "con filters \(filterCount)xCx\(rows)x\(columns)",
                                          found: "\(filterShape)")
        }
        let filterSize = filterShape.reduce(1, *), biasSize = useBias ? biasShape.reduce(1, *) : 0
        guard params.values.count >= filterSize + biasSize, biasSize == 0 || biasSize == filterCount else {
            throw DlibFormatError.invalid(path: r.path, offset: layerStart, expected: "con params of \(filterSize) weights + \(biasSize) biases",
                                          found: "\(params.values.count) values")
        }
        return DlibConvolution(filterCount: filterCount, inputChannels: filterShape[1], kernelRows: rows, kernelColumns: columns,
                               strideY: strideY, strideX: strideX, paddingY: paddingY, paddingX: paddingX,
                               weights: Array(params.values[0..<filterSize]),
                               bias: useBias ? Array(params.values[filterSize..<(filterSize + biasSize)]) : nil,
                               fusedReLU: fusedReLU)
    }

    private static func parseFullyConnected(_ r: inout DlibReader, kind: String) throws -> DlibFullyConnected {
        let outputs = try r.readCount("fc num_outputs"), inputs = try r.readCount("fc num_inputs")
        let layerStart = r.offset
        let params = try r.readTensor("fc params")
        let weightShape = try r.readAliasShape("fc weights")
        let biasShape = try r.readAliasShape("fc biases")
        let mode = try r.readCount("fc bias mode (0 has bias, 1 no bias)", limit: 1)
        for name in ["learning rate", "weight decay", "bias learning rate", "bias weight decay"] {
            _ = try r.readDouble("fc \(name) multiplier")
        }
        var useBias = mode == 0
        if kind == "fc_3" { useBias = try r.readBool("fc use_bias") && useBias }
        let weightCount = weightShape.reduce(1, *), biasCount = useBias ? biasShape.reduce(1, *) : 0
        guard weightCount == inputs * outputs, params.values.count >= weightCount + biasCount else {
            throw DlibFormatError.invalid(path: r.path, offset: layerStart, expected: "fc params of \(inputs)x\(outputs) weights",
                                          found: "\(params.values.count) values, weights \(weightShape)")
        }
        return DlibFullyConnected(outputs: outputs, inputs: inputs, weights: Array(params.values[0..<weightCount]),
                                  bias: useBias ? Array(params.values[weightCount..<(weightCount + biasCount)]) : nil)
    }

    /// Splits a parameter tensor into two consecutive aliased parts of equal use (gamma/beta).
    private static func twoParts(_ params: DlibTensor, first: [Int], second: [Int], at offset: Int,
                                 in r: DlibReader) throws -> ([Float], [Float]) {
        let a = first.reduce(1, *), b = second.reduce(1, *)
        guard params.values.count == a + b else {
            throw DlibFormatError.invalid(path: r.path, offset: offset, expected: "params of \(a) + \(b) values",
                                          found: "\(params.values.count) values")
        }
        return (Array(params.values[0..<a]), Array(params.values[a...]))
    }
}
