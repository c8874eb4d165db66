import CloakData
import CloakDatasetProtection
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The data set of a `cloak unlearnable` job, loaded at its working size, with the settings resolved to it.
struct UnlearnableInput {
    /// The input folder and the output folder, absolute.
    let root: String
    let output: String
    let folder: ImageFolder
    let loaded: LoadedImageFolder
    let data: LabelledImages
    /// The settings with the working size filled in.
    let settings: UnlearnableSettings
    /// When the job began (``monotonicSeconds()``).
    let began: Double
    /// ``UnlearnableJob/jobKey(of:)``, once known.
    var jobKey = ""

    var classCount: Int { folder.classes.count }

    /// Checks the output folder, chooses the working size, checks the job fits in memory and loads the images.
    static func load(trainFolder: String, outputFolder: String, settings: UnlearnableSettings, limitPerClass: Int?,
                     quiet: Bool) throws -> UnlearnableInput {
        let began = monotonicSeconds()
        let log: (String) -> Void = { if !quiet { StandardError.print($0) } }
        let root = FileRecords.absolute(trainFolder), output = FileRecords.absolute(outputFolder)
        let folder = try ImageFolder(root: root)
        try OutputWriter.prepare(output: output, for: root)
        let indices = folder.indices(limitPerClass: limitPerClass)
        let requested = settings.width.flatMap { w in settings.height.map { (w, $0) } }
        let chosen = WorkingSize.choose(requested: requested, folder: folder, indices: indices)
        if let chosen {
            try WorkingSize.check(images: indices.count, size: chosen.size, batch: settings.batchSize, model: settings.model,
                                  noiseCopies: (settings.mode == .sample ? 2 : 0) + (settings.targetedPoison ? 2 : 0),
                                  path: root)
            if let note = chosen.note { log("note: " + note) }
        }
        let progress = ProgressReporter("load", total: indices.count, unit: "images", quiet: quiet)
        let loaded = folder.load(size: chosen?.size, indices: indices) { _ in progress.advance() }
        progress.finish()
        guard loaded.count >= 2, Set(loaded.labels).count >= 2 else {
            throw UnlearnableError.tooFewImages(path: root, count: loaded.count)
        }
        if requested == nil && chosen?.note == nil {
            let sizes = Set(loaded.originalSizes.map { "\($0.width)x\($0.height)" })
            if sizes.count > 1 {
                log("note: the images come in \(sizes.count) sizes; working at \(loaded.width)x\(loaded.height), the first "
                    + "image's (`size` chooses); each output is written at its own size")
            }
        }
        var resolved = settings
        resolved.width = loaded.width
        resolved.height = loaded.height
        let data = LabelledImages(pixels: loaded.pixels, labels: loaded.labels, height: loaded.height,
                                  width: loaded.width, channels: loaded.channels)
        return UnlearnableInput(root: root, output: output, folder: folder, loaded: loaded, data: data, settings: resolved,
                                began: began)
    }
}
