import CloakData
import CloakDatasetProtection
import CloakImage
import CloakStore
import CloakSupport
import CloakTensor
import Foundation

/// Writes the cloaked copy of a data set and records every output with its measured perturbation.
struct OutputWriter {
    let run: RecordedRun
    let store: ProvenanceStore
    let root: String
    let output: String
    let loaded: LoadedImageFolder
    /// Noise patterns, HWC at the working size (see ``ErrorMinimizingNoise``).
    let noise: [Float]
    let settings: UnlearnableSettings
    let quiet: Bool
    /// With `method` ops: each class's pixel (indexed by label), set instead of adding ``noise``.
    var onePixel: [OnePixelShortcut.ClassPixel]? = nil

    struct Result {
        var written = 0
        var failures = 0
        var maxLinf = 0
        var meanPSNR = 0.0
        var meanSSIM = 0.0
    }

    /// Files that mark a folder as made by `cloak unlearnable` (an earlier or interrupted run of it: the noise files
    /// are written before the images).
    static let outputMarkers = ["unlearnable.json", "noise.json"]

    /// Checks `output` may take the cloaked copy of the data set in `root` and creates it, before any work, so a
    /// mistake is said at once. Refused: a folder inside `root`, and one holding files `cloak unlearnable` did not
    /// make (the outputs are named after the inputs, so another copy of the data set, a clean backup say, would be
    /// written over). A new folder, one without files (hidden ones and empty folders aside), or one with an
    /// earlier run's markers is fine.
    static func prepare(output: String, for root: String) throws {
        guard output != root, !output.hasPrefix(root + "/") else {
            throw UnlearnableError.invalidSettings("`outputFolder` must not be inside the input folder \(root)")
        }
        let marked = outputMarkers.contains { FileManager.default.fileExists(atPath: output + "/" + $0) }
        if !marked, let file = FolderOwnership.firstFile(under: [output]) {
            throw UnlearnableError.invalidSettings(
                "\(output): `outputFolder` holds files cloak unlearnable did not make (\(file), ...), and the cloaked images "
                + "would replace same-named ones; choose a new or empty folder")
        }
        try createDirectory(output)
    }

    /// The output path of an input: same place under `output`, extension `.png`.
    func outputPath(for input: String) -> String {
        let relative = input.hasPrefix(root + "/") ? String(input.dropFirst(root.count + 1)) : (input as NSString).lastPathComponent
        return output + "/" + (relative as NSString).deletingPathExtension + ".png"
    }

    /// The noise for image `i` at `width x height`, HWC with `loaded.channels` channels.
    func noise(forImage i: Int, width: Int, height: Int) -> [Float] {
        let size = loaded.width * loaded.height * loaded.channels
        let offset = (settings.noisePerImage ? i : loaded.labels[i]) * size
        return NoisePatterns.resized(Array(noise[offset..<(offset + size)]), width: loaded.width, height: loaded.height,
                                     channels: loaded.channels, toWidth: width, toHeight: height)
    }

    /// One image made, written and measured (``prepare(_:)``), waiting to be recorded.
    struct Prepared {
        var entry: OutputEntry
        var linf: Int
        var psnr: Double
        var ssim: Double
    }

    /// Reads image `i`, adds its noise, writes the PNG (unless the same bytes are already there) and measures
    /// the change. Touches no shared state, so several images can be prepared at once.
    func prepare(_ i: Int) throws -> Prepared {
        let path = loaded.paths[i]
        let bytes = try ImageCodec.readBytes(path: path)
        let original = try ImageCodec.decode(bytes: bytes, path: path).image
        let cloaked: RGBImage
        if let onePixel {
            cloaked = OnePixelShortcut.apply(onePixel[loaded.labels[i]], to: original, workingWidth: loaded.width,
                                             workingHeight: loaded.height)
        } else {
            let n = noise(forImage: i, width: original.width, height: original.height)
            cloaked = NoisePatterns.apply(n, channels: loaded.channels, to: original, epsilon: settings.epsilon)
        }
        let encoded = try ImageCodec.encode(cloaked, as: .png)
        let target = outputPath(for: path)
        if FileManager.default.contents(atPath: target).map({ [UInt8]($0) != encoded }) ?? true {
            try writeFileAtomically(encoded, to: target, createParentDirectories: false, durable: false)
        }
        let linf = ImageMetrics.linf(original, cloaked)
        let psnr = ImageMetrics.psnr(original, cloaked)
        let ssim = ImageMetrics.ssim(original, cloaked)
        let entry = OutputEntry(
            input: FileRecords.record(bytes: bytes, path: path, width: original.width, height: original.height,
                                      format: ImageFormat(magic: bytes)?.rawValue),
            output: FileRecords.record(bytes: encoded, path: target, width: cloaked.width, height: cloaked.height,
                                       format: "png"),
            linf: Double(linf), l2: ImageMetrics.l2(original, cloaked), psnr: psnr, ssim: ssim,
            details: try JSON.string(Details(mode: settings.mode.rawValue, method: settings.method.rawValue,
                                             epsilon: onePixel == nil ? settings.epsilon : nil,
                                             label: loaded.classes[loaded.labels[i]],
                                             noiseIndex: settings.noisePerImage ? i : loaded.labels[i],
                                             changedPixels: ImageMetrics.changedPixels(original, cloaked))))
        return Prepared(entry: entry, linf: linf, psnr: psnr, ssim: ssim)
    }

    /// Writes every image: prepared (decoded, cloaked, encoded, written, measured) on all cores a chunk at a
    /// time, then recorded in input order, so the store and the progress read as a serial run would leave them.
    func writeAll() throws -> Result {
        var result = Result()
        let progress = ProgressReporter("write", total: loaded.count, unit: "images", quiet: quiet)
        var batch: [OutputEntry] = []
        var psnrSum = 0.0, psnrCount = 0, ssimSum = 0.0
        // What a killed earlier run was writing when it stopped goes; every output folder exists before the images
        // are prepared in parallel (no two threads race to make one).
        removeAbandonedTemporaryFiles(in: output, recursive: true)
        for folder in Set(loaded.paths.map { (outputPath(for: $0) as NSString).deletingLastPathComponent }) {
            try createDirectory(folder)
        }
        let chunk = 8 * max(1, ProcessInfo.processInfo.activeProcessorCount)
        for begin in stride(from: 0, to: loaded.count, by: chunk) {
            let count = min(chunk, loaded.count - begin)
            let outcomes = concurrentMap(count: count) { k in Swift.Result { try prepare(begin + k) } }
            for (k, outcome) in outcomes.enumerated() {
                defer { progress.advance() }
                let path = loaded.paths[begin + k]
                switch outcome {
                case .success(let made):
                    result.written += 1
                    result.maxLinf = max(result.maxLinf, made.linf)
                    if made.psnr.isFinite { psnrSum += made.psnr; psnrCount += 1 }
                    ssimSum += made.ssim
                    batch.append(made.entry)
                case .failure(let error):
                    result.failures += 1
                    let message = error.localizedDescription
                    run.recordFailure(path: path, reason: message.hasPrefix(path) ? message : "\(path): \(message)")
                    StandardError.print("error: \(message)")   // also when quiet: only progress is silenced
                }
                if batch.count >= 1000 {
                    try store.recordOutputs(runID: run.id, batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        try store.recordOutputs(runID: run.id, batch)
        sync()
        progress.finish()
        result.meanPSNR = psnrCount > 0 ? psnrSum / Double(psnrCount) : .infinity
        result.meanSSIM = result.written > 0 ? ssimSum / Double(result.written) : 1
        return result
    }

    struct Details: Codable {
        var mode: String
        var method: String
        /// The L-inf budget in 0-255 levels (`nil` for the one-pixel shortcut, which has none).
        var epsilon: Double?
        var label: String
        var noiseIndex: Int
        /// The L0 size of the change: pixels that differ in any channel.
        var changedPixels: Int
    }

    /// `noise.npy` (NCHW) and `noise.json`.
    func writeNoise(classes: [String]) throws {
        let c = loaded.channels, h = loaded.height, w = loaded.width
        let patterns = noise.count / (w * h * c)
        let nchw = NoisePatterns.transposed(noise, patterns: patterns, channels: c, height: h, width: w, toNCHW: true)
        try writeFileAtomically(NPYFile.encode(nchw, shape: [patterns, c, h, w]), to: "\(output)/noise.npy")
        let layout = NoiseLayout(
            mode: settings.mode.rawValue, epsilon: settings.epsilon, shape: [patterns, c, h, w],
            layout: "float32, NCHW, [0, 1] pixel units, values within [-epsilon/255, epsilon/255]; add to images scaled to [0, 1], then clamp the sum",
            classes: classes,
            files: settings.noisePerImage ? loaded.paths.map { String($0.dropFirst(root.count + 1)) } : nil)
        try writeFileAtomically(Array((try JSON.pretty(layout) + "\n").utf8), to: "\(output)/noise.json")
    }

    /// `method` ops: `noise.json` lists each class's pixel (at the working size, `width x height`); there is no
    /// `noise.npy`, since the change of an image depends on its own pixel value.
    func writePixels(_ pixels: [OnePixelShortcut.ClassPixel], classes: [String]) throws {
        let layout = PixelLayout(method: "ops", width: loaded.width, height: loaded.height, channels: loaded.channels,
                                 classes: classes, pixels: pixels,
                                 layout: "each image of classes[k] has pixels[k] (row, column at width x height, scaled "
                                     + "to the image's own size) set to colour (0 or 1 per channel)")
        try writeFileAtomically(Array((try JSON.pretty(layout) + "\n").utf8), to: "\(output)/noise.json")
    }

    struct PixelLayout: Codable {
        var method: String
        var width: Int
        var height: Int
        var channels: Int
        var classes: [String]
        var pixels: [OnePixelShortcut.ClassPixel]
        var layout: String
    }

    struct NoiseLayout: Codable {
        var mode: String
        var epsilon: Double
        var shape: [Int]
        var layout: String
        var classes: [String]
        var files: [String]?
    }
}
