import CloakData
import CloakImage
import CloakNN
import CloakTensor
import Foundation

/// Class-targeted adversarial poisoning (TAP; Fowl et al., "Adversarial Examples Make Strong Poisons", NeurIPS 2021),
/// the second half of `cloak unlearnable --targeted-poison`: every image is pushed toward the features of the class
/// after its own, `(label + 1) mod K`, by projected gradient descent on a model trained on the clean images.
///
/// The crafting model is `small` (the verifier's SmallCNN) trained for ``craftingEpochs`` epochs on the clean images
/// (SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine annealing, batch 128, gradient-norm clip 5, no augmentation);
/// each image then takes ``steps`` sign steps of ``stepSize`` down the cross-entropy of its target class from a random
/// start, within ±ε and [0, 1] (Fowl et al. use a ResNet-18 with 250 steps and 8 restarts on CIFAR-10; 40 steps
/// instead of 10 did no better on Fashion-MNIST). Measured there (README, verifier seed 0): the default class-wise
/// noise alone let a fresh SmallCNN reach 45.1% in an early epoch, TAP alone 42.0%, the two summed 24.3% at most.
///
/// Resumable: the crafting model is saved once trained (`tap-model.ckpt`), the noise after every ``chunk`` images
/// (`tap-noise.npy`, then `tap.json`, written last), in the job's state folder. Each chunk draws its random starts
/// from its own seed, so a resumed run makes the same noise as an uninterrupted one.
struct TargetedAdversarialPoison {
    static let craftingEpochs = 5
    static let steps = 10
    static let stepSize: Float = 2 / 255
    static let chunk = 4096

    let epsilon: Float
    let seed: UInt64
    let classCount: Int

    /// The seed of the crafting model's initialisation and batches, apart from the error-minimising noise's.
    var craftingSeed: UInt64 { seed &+ 0x7A9 }

    /// An untrained crafting model for `channels`-channel images.
    func freshCraftingModel(channels: Int) -> any Layer {
        SurrogateModels.make(.small, inputChannels: channels, classCount: classCount, seed: craftingSeed)
    }

    /// The target class of an image of class `label`.
    func target(of label: Int) -> Int { (label + 1) % classCount }

    /// A fresh `small` model trained on the clean images.
    func trainCraftingModel(on data: LabelledImages, quiet: Bool) -> any Layer {
        let model = freshCraftingModel(channels: data.channels)
        let configuration = TrainingConfiguration(
            epochs: Self.craftingEpochs, batchSize: 128,
            schedule: CosineAnnealing(base: 0.1, period: Self.craftingEpochs), gradientClipNorm: 5)
        var generator = SplitMix64(seed: craftingSeed)
        Trainer(model: model, optimizer: SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4),
                configuration: configuration)
            .fit(data, using: &generator, onEpoch: { e in
                if !quiet {
                    StandardError.print(String(format: "targeted poison: crafting model epoch %d/%d, train accuracy %.2f%%",
                                               e.epoch + 1, Self.craftingEpochs, e.trainingAccuracy * 100))
                }
            })
        return model
    }

    /// The noise of the images `indices` (HWC per image, in [−ε, ε], image after image), each pulled toward its target
    /// class; random starts drawn from `seed` and `indices.first`.
    func noise(for data: LabelledImages, indices: [Int], model: any Layer) -> [Float] {
        var generator = SplitMix64(seed: craftingSeed &+ UInt64(indices.first ?? 0) &* 0x9E37)
        var noise = [Float]()
        noise.reserveCapacity(indices.count * data.imageSize)
        for start in stride(from: 0, to: indices.count, by: 512) {
            let batch = data.batch(Array(indices[start..<min(indices.count, start + 512)]))
            let moved = projectedGradientSteps(
                model: model, clean: batch.images, labels: batch.labels.map(target(of:)), epsilon: epsilon,
                stepSize: Self.stepSize, steps: Self.steps, direction: .descent, using: &generator)
            let x = batch.images.scalars, m = moved.scalars
            noise += zip(m, x).map { $0 - $1 }
        }
        return noise
    }

    /// What `tap.json` holds.
    struct Progress: Codable {
        var jobKey: String
        var images: Int
    }

    /// The noise of every image of `data`, made or resumed in the state folder `folder`. `stopAfterChunks` is a test
    /// hook: stop (throwing ``UnlearnableJob/Stopped``) after that many chunks of this invocation (0: once the crafting
    /// model is saved).
    func run(on data: LabelledImages, folder: String, jobKey: String, quiet: Bool,
             stopAfterChunks: Int? = nil) throws -> [Float] {
        try createDirectory(folder)
        let modelPath = "\(folder)/tap-model.ckpt", noisePath = "\(folder)/tap-noise.npy", progressPath = "\(folder)/tap.json"
        var progress = FileManager.default.contents(atPath: progressPath)
            .flatMap { try? JSONDecoder().decode(Progress.self, from: $0) }
            .flatMap { $0.jobKey == jobKey ? $0 : nil }
        let model: any Layer
        if progress != nil, FileManager.default.fileExists(atPath: modelPath) {
            model = freshCraftingModel(channels: data.channels)
            try Checkpoint(contentsOf: URL(fileURLWithPath: modelPath)).load(into: model)
        } else {
            progress = nil
            model = trainCraftingModel(on: data, quiet: quiet)
            try writeFileAtomically([UInt8](Checkpoint(of: model).serialized()), to: modelPath)
            try writeFileAtomically(Array(try JSON.pretty(Progress(jobKey: jobKey, images: 0)).utf8), to: progressPath)
        }
        var done = progress?.images ?? 0
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
            noise += self.noise(for: data, indices: indices, model: model)
            done += indices.count
            try writeFileAtomically(NPYFile.encode(noise, shape: [noise.count]), to: noisePath)
            try writeFileAtomically(Array(try JSON.pretty(Progress(jobKey: jobKey, images: done)).utf8), to: progressPath)
            reporter.advance(by: indices.count)
            chunks += 1
        }
        reporter.finish()
        return noise
    }

    /// The error-minimising noise (`patternOf(i)`'s pattern for image `i`) plus each image's targeted-poison noise,
    /// clipped to ±ε: one pattern per image, HWC, image after image.
    static func sum(errorMinimizing em: [Float], patternOf: (Int) -> Int, poison: [Float], imageSize: Int,
                    epsilon: Float) -> [Float] {
        var out = poison
        for i in 0..<(poison.count / imageSize) {
            let p = patternOf(i) * imageSize, o = i * imageSize
            for j in 0..<imageSize { out[o + j] = min(epsilon, max(-epsilon, em[p + j] + poison[o + j])) }
        }
        return out
    }
}
