import CloakFace
import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// One photo of a ``FaceJob``: decoded, its output path decided, cloaked, encoded, measured and written.
struct PhotoCloak {
    let path: String
    let decoded: DecodedImage
    let input: FileRecord
    let format: ImageFormat
    let outputPath: String
    let settings: FaceJobSettings
    let settingsKey: String

    var image: RGBImage { decoded.image }

    /// Reads and decodes `path` and decides where its output goes.
    ///
    /// - Parameters:
    ///   - relative: the path below the root it was found under (the mirrored tree's layout).
    ///   - outputRoot: the mirrored output tree, or `nil` for `<name>.cloaked.<ext>` beside the input.
    init(path: String, relative: String, settings: FaceJobSettings, outputRoot: String?, settingsKey: String) throws {
        self.path = path
        self.settings = settings
        self.settingsKey = settingsKey
        let bytes = try ImageCodec.readBytes(path: path)
        decoded = try ImageCodec.decode(bytes: bytes, path: path)
        input = FileRecords.record(bytes: bytes, path: path, width: decoded.image.width, height: decoded.image.height,
                                   format: decoded.format.rawValue)
        switch settings.format {
        case .keep: format = decoded.format
        case .png: format = .png
        case .jpg: format = .jpeg
        }
        outputPath = Self.outputPath(for: path, relative: relative, format: format, outputRoot: outputRoot)
        guard absolutePath(outputPath) != absolutePath(path) else {
            throw FaceJobError.badOption("the output would replace the original (\(outputPath)); choose another `outputFolder`")
        }
    }

    /// `dir/name.cloaked.ext` beside the input, or `<outputRoot>/<relative>` with the output's extension.
    /// The input's extension is kept when it names the output's format (`.jpeg` stays `.jpeg`).
    static func outputPath(for path: String, relative: String, format: ImageFormat, outputRoot: String?) -> String {
        let ext = (path as NSString).pathExtension
        let newExt = ImageFormat(pathExtension: ext) == format ? ext : format.fileExtension
        if let outputRoot {
            let stem = (relative as NSString).deletingPathExtension
            return outputRoot + "/" + stem + "." + newExt
        }
        let stem = (path as NSString).deletingPathExtension
        return stem + ".cloaked." + newExt
    }

    /// An output of an earlier `cloak faces` run made from this content with the same settings into the same
    /// file, when that file is still there with the recorded content.
    func earlierOutput(in store: ProvenanceStore) throws -> EarlierOutput? {
        let target = absolutePath(outputPath)
        for earlier in try store.outputs(fromInputSHA256: input.sha256, command: "faces") where earlier.path == target {
            guard let details = try? JSONDecoder().decode(FaceJob.Details.self, from: Data(earlier.details.utf8)),
                  details.settingsKey == settingsKey,
                  FileManager.default.fileExists(atPath: outputPath),
                  (try? FileDigest.sha256(ofFileAt: outputPath)) == earlier.sha256 else { continue }
            return earlier
        }
        return nil
    }

    /// In a mirrored output tree the output is named as the input, so a folder holding other copies of the
    /// photos would have them written over: true when a file is already at the output path and the store
    /// knows it as no run's output.
    func outputWouldReplaceAForeignFile(in store: ProvenanceStore) throws -> Bool {
        guard settings.outputFolder != nil, FileManager.default.fileExists(atPath: outputPath) else { return false }
        return try store.provenance(sha256: try FileDigest.sha256(ofFileAt: outputPath)).producedBy.isEmpty
    }

    struct Result {
        var photo: FaceJob.PhotoResult
        var entry: OutputEntry
        var faceRecords: [FaceRecord]
    }

    /// Cloaks the faces, encodes, measures the encoded output and writes it atomically.
    func cloak(faces: [DetectedFace], cloaker: FaceCloaker, objective: CloakObjective, checkRecompression: Bool,
               progress: @escaping (CloakProgress) -> Void) throws -> Result {
        let start = Date()
        let cloaked = cloaker.cloak(image, faces: faces, objective: objective, progress: progress)
        var final = cloaked.image
        // A black-and-white photo stays black and white: the cloak's colour is averaged out (each sample
        // stays within the cap, as an average of values within it).
        if image.isGrayscale { final = final.channelsAveraged() }
        let options = EncodeOptions(jpegQuality: settings.jpegQuality, keepMetadata: settings.keepMetadata,
                                    metadata: decoded.metadata)
        let bytes = try ImageCodec.encode(final, as: format, options: options)
        // Measure what is written, as a tracker reading the file would see it.
        let written = format == .jpeg ? try ImageCodec.decode(bytes: bytes, path: outputPath).image : final
        let shifts = written == cloaked.image
            ? cloaked.faces.map { FaceShift(shift: $0.embeddingShift, redetected: $0.redetected, targetDistance: $0.targetDistance) }
            : cloaker.embeddingShifts(original: image, cloaked: written, faces: faces, objective: objective)
        var after85: [FaceShift]?, after75: [FaceShift]?
        if checkRecompression {
            after85 = try recompressedShifts(written, quality: 85, faces: faces, cloaker: cloaker, objective: objective)
            after75 = try recompressedShifts(written, quality: 75, faces: faces, cloaker: cloaker, objective: objective)
        }
        try writeFileAtomically(bytes, to: outputPath, createParentDirectories: true)
        let output = FileRecords.record(bytes: bytes, path: outputPath, width: written.width, height: written.height,
                                        format: format.rawValue)

        var faceResults: [FaceJob.FaceResult] = [], records: [FaceRecord] = []
        for (i, face) in cloaked.faces.enumerated() {
            let measured = try measure(face, index: i, final: final, shift: shifts[i], after85: after85?[i], after75: after75?[i])
            faceResults.append(measured.result)
            records.append(measured.record)
        }
        let psnr = ImageMetrics.psnr(image, written)
        let ssim = written == cloaked.image ? cloaked.ssim : ImageMetrics.ssim(image, written)
        let details = FaceJob.Details(settingsKey: settingsKey, mode: settings.mode, faces: faces.count,
                                      format: format.rawValue, targeted: objective != .untargeted)
        let entry = OutputEntry(input: input, output: output, linf: Double(ImageMetrics.linf(image, written)),
                                l2: ImageMetrics.l2(image, written), psnr: psnr, ssim: ssim, details: try JSON.string(details))
        let photo = FaceJob.PhotoResult(input: input.path, output: output.path, outcome: .cloaked, width: image.width,
                                        height: image.height, faces: faceResults, psnr: psnr.isFinite ? psnr : nil,
                                        ssim: ssim, seconds: Date().timeIntervalSince(start))
        return Result(photo: photo, entry: entry, faceRecords: records)
    }

    /// One cloaked face measured: the cloak itself (before encoding: what the budget and the cap bound; a JPEG output
    /// adds its own compression error, which the output row's PSNR/SSIM/L-inf measure) over the face's region, the
    /// shifts as the written file and its recompressions show them, and the amplified difference for `cloak show`.
    private func measure(_ face: CloakedFace, index: Int, final: RGBImage, shift: FaceShift, after85: FaceShift?,
                         after75: FaceShift?) throws -> (result: FaceJob.FaceResult, record: FaceRecord) {
        let region = face.region
        var dssim = 0.0, psnr = Double.infinity, linf = 0
        var difference: Data?
        if !region.isEmpty {
            let before = FaceChipExtractor.crop(image, region), after = FaceChipExtractor.crop(final, region)
            if region.width >= ColourDissimilarity.windowSize && region.height >= ColourDissimilarity.windowSize {
                dssim = ColourDissimilarity(reference: FloatRGBImage(before)).dissimilarity(FloatRGBImage(after))
            }
            psnr = ImageMetrics.psnr(before, after)
            linf = ImageMetrics.linf(before, after)
            difference = Data(try ImageCodec.encode(RGBImage.amplifiedDifference(before, after).thumbnail(side: 256),
                                                    as: .png))
        }
        let result = FaceJob.FaceResult(
            box: face.box, shift: Double(shift.shift), shiftAfterJPEG85: after85.map { Double($0.shift) },
            shiftAfterJPEG75: after75.map { Double($0.shift) }, redetected: shift.redetected,
            targetDistance: shift.targetDistance.map(Double.init), dssim: dssim,
            psnr: psnr.isFinite ? psnr : nil, linf: linf, seconds: face.seconds)
        let record = FaceRecord(faceIndex: index, box: (face.box.left, face.box.top, face.box.right, face.box.bottom),
                                embeddingShift: result.shift, shiftAfterJPEG85: result.shiftAfterJPEG85,
                                shiftAfterJPEG75: result.shiftAfterJPEG75, redetected: result.redetected,
                                targetDistance: result.targetDistance, dssim: dssim, psnr: result.psnr,
                                linf: linf, seconds: face.seconds, differencePNG: difference)
        return (result, record)
    }

    private func recompressedShifts(_ written: RGBImage, quality: Int, faces: [DetectedFace], cloaker: FaceCloaker,
                                    objective: CloakObjective) throws -> [FaceShift] {
        let bytes = try ImageCodec.encode(written, as: .jpeg, options: EncodeOptions(jpegQuality: quality))
        let reloaded = try ImageCodec.decode(bytes: bytes, path: outputPath).image
        return cloaker.embeddingShifts(original: image, cloaked: reloaded, faces: faces, objective: objective)
    }
}
