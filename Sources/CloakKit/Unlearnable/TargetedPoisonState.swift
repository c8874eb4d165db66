import CloakData
import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The targeted poison of `cloak unlearnable --targeted-poison` (``TargetedAdversarialPoison``), made and resumed in
/// the job's state folder: the crafting model is saved once trained (`tap-model.ckpt`), the noise after every
/// ``chunk`` images (`tap-noise.npy`, then `tap.json`, written last). A resumed run makes the same noise as an
/// uninterrupted one, since each chunk's noise depends only on the model, the seed and its first index.
struct TargetedPoisonState {
    static let chunk = 4096
    static let modelName = "tap-model.ckpt"

    let poison: TargetedAdversarialPoison
    let folder: String
    let jobKey: String
    let quiet: Bool

    /// What `tap.json` holds.
    struct Progress: Codable {
        var jobKey: String
        var images: Int
    }

    var modelPath: String { "\(folder)/\(Self.modelName)" }
    var noisePath: String { "\(folder)/tap-noise.npy" }
    var progressPath: String { "\(folder)/tap.json" }

    /// The noise of every image of `data`. `stopAfterChunks` is a test hook: stop (throwing
    /// ``UnlearnableJob/Stopped``) after that many chunks of this invocation (0: once the crafting model is saved).
    func run(on data: LabelledImages, stopAfterChunks: Int? = nil) throws -> [Float] {
        try createDirectory(folder)
        let (model, saved) = try craftingModel(for: data)
        var done = saved
        var noise = done > 0 ? try NPYFile.decode(UnlearnableState.read(noisePath), path: noisePath).values : []
        guard noise.count == done * data.imageSize else {
            throw UnlearnableError.stateMismatch(path: noisePath, reason: "it holds \(noise.count) values, not \(done) images' worth")
        }
        if done > 0 && !quiet { StandardError.print("targeted poison: resuming after \(done) of \(data.count) images") }
        let reporter = ProgressReporter("targeted poison", total: data.count, unit: "images", quiet: quiet)
        reporter.advance(by: done)
        var chunks = 0
        while done < data.count {
            if let stop = stopAfterChunks, chunks >= stop { throw UnlearnableJob.Stopped() }
            let indices = Array(done..<min(data.count, done + Self.chunk))
            noise += poison.noise(for: data, indices: indices, model: model)
            done += indices.count
            try writeFileAtomically(NPYFile.encode(noise, shape: [noise.count]), to: noisePath)
            try writeFileAtomically(Array(try JSON.pretty(Progress(jobKey: jobKey, images: done)).utf8), to: progressPath)
            reporter.advance(by: indices.count)
            chunks += 1
        }
        reporter.finish()
        return noise
    }

    /// The crafting model and the images already poisoned: restored from a saved state of this job, or trained now
    /// (and saved) with nothing done yet.
    private func craftingModel(for data: LabelledImages) throws -> (any Layer, Int) {
        let progress = try readProgress()
        if let progress, FileManager.default.fileExists(atPath: modelPath) {
            let model = poison.freshCraftingModel(channels: data.channels)
            try Checkpoint(contentsOf: URL(fileURLWithPath: modelPath)).load(into: model)
            return (model, progress.images)
        }
        let model = poison.trainCraftingModel(on: data) { e in
            if !quiet {
                StandardError.print(String(format: "targeted poison: crafting model epoch %d/%d, train accuracy %.2f%%",
                                           e.epoch + 1, TargetedAdversarialPoison.craftingEpochs, e.trainingAccuracy * 100))
            }
        }
        try writeFileAtomically([UInt8](Checkpoint(of: model).serialized()), to: modelPath)
        try writeFileAtomically(Array(try JSON.pretty(Progress(jobKey: jobKey, images: 0)).utf8), to: progressPath)
        return (model, 0)
    }

    /// This job's saved progress; `nil` when there is none or it is another job's. An unreadable file is an error.
    private func readProgress() throws -> Progress? {
        guard let bytes = FileManager.default.contents(atPath: progressPath) else { return nil }
        do {
            let progress = try JSONDecoder().decode(Progress.self, from: bytes)
            return progress.jobKey == jobKey ? progress : nil
        } catch {
            throw UnlearnableError.stateMismatch(path: progressPath, reason: "unreadable: \(error.localizedDescription)")
        }
    }
}
