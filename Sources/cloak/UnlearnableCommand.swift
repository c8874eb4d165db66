import ArgumentParser
import CloakKit
import Foundation

extension UnlearnableSettings.Mode: ExpressibleByArgument {}
extension UnlearnableSettings.Model: ExpressibleByArgument {}
extension UnlearnableSettings.ClassUpdate: ExpressibleByArgument {}

extension Cloak {
    struct Unlearnable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a labelled image folder unlearnable with error-minimising noise (Unlearnable Examples).",
            discussion: """
                Input: an ImageFolder tree <folder>/<class>/<image>.png|jpg. Output: the same tree under --out \
                with every image cloaked (PNG, each at its own size, L-inf <= epsilon), noise.npy (float32, \
                NCHW) and a resumable state: after an interruption, the same command continues from the last \
                completed round. Defaults per mode follow the reference implementation (Huang et al., ICLR \
                2021): class-wise 1 PGD step on a 20% subset, sample-wise 20 PGD steps; both 10 surrogate \
                batches per round, step 0.8/255, stop error 0.01. No augmentation is used while generating. \
                An image that cannot be read is reported with its path and reason and left out (the rest are \
                cloaked); the exit status is then 1.
                """
        )

        @Argument(help: ArgumentHelp("The ImageFolder to protect.", valueName: "train-folder"))
        var trainFolder: String

        @Option(name: .long, help: ArgumentHelp("Folder for the cloaked copy.", valueName: "folder"))
        var out: String

        @Option(name: .long, help: "One noise per class, or one per image.")
        var mode: UnlearnableSettings.Mode = .class

        @Option(name: .long, help: ArgumentHelp("L-inf budget in 0-255 levels.", valueName: "levels"))
        var epsilon: Double = 8

        @Option(name: .long, help: ArgumentHelp("Sign-gradient step in 0-255 levels.", valueName: "levels"))
        var stepSize: Double = 0.8

        @Option(name: .long, help: ArgumentHelp("PGD steps per noise update (default: 1 class-wise, 20 sample-wise).", valueName: "n"))
        var pgdSteps: Int?

        @Option(name: .long, help: ArgumentHelp("Surrogate training batches per round.", valueName: "n"))
        var trainSteps: Int = 10

        @Option(name: .long, help: ArgumentHelp("Stop when the surrogate's error on the noisy data is below this.", valueName: "error"))
        var stopError: Double = 0.01

        @Option(name: .long, help: ArgumentHelp("Class-wise: fraction of the images used to generate the noise (default 0.2).", valueName: "fraction"))
        var subset: Double?

        @Option(name: .long, help: ArgumentHelp(
            "Class-wise: average per-image steps as the reference code, or step each class pattern on its images' summed gradient.",
            valueName: "reference|gradient"))
        var classUpdate: UnlearnableSettings.ClassUpdate = .reference

        @Option(name: .long, help: ArgumentHelp(
            "Experimental: the noise is a t x t tile repeated across the image (default: one value per pixel).",
            valueName: "t"))
        var noiseTile: Int?

        @Option(name: .long, help: ArgumentHelp(
            "Re-initialise the surrogate every n rounds; the run then ends at --max-rounds (see README).",
            valueName: "n"))
        var restartEvery: Int?

        @Option(name: .long, help: ArgumentHelp(
            "Class-wise: give this class no pattern, so that clean images, which carry none, are taken for it; its images are written unchanged (see README).",
            valueName: "class"))
        var decoyClass: String?

        @Flag(name: .long, help: ArgumentHelp(
            "Then also push every image toward the next class's features (class-targeted adversarial poisoning, Fowl et al. 2021), summed with the noise within epsilon; the noise becomes one per image (see README)."))
        var targetedPoison = false

        @Option(name: .long, help: "Surrogate network.")
        var model: UnlearnableSettings.Model = .small

        @Option(name: .long, help: ArgumentHelp("Working resolution, N or WxH (default: the first image's own size, scaled down to 224 on its longer side when larger).", valueName: "size"))
        var size: String?

        @Option(name: .long, help: "Random seed (surrogate initialisation, batches, subset).")
        var seed: UInt64 = 0

        @Option(name: .long, help: ArgumentHelp("Give up after this many rounds.", valueName: "n"))
        var maxRounds: Int = 100

        @Option(name: .long, help: ArgumentHelp("Batch size.", valueName: "n"))
        var batchSize: Int = 512

        @Option(name: .long, help: ArgumentHelp("Use only the first N images of each class.", valueName: "N"))
        var limitPerClass: Int?

        @Flag(name: .long, help: "Start from uniform random noise in [-epsilon, epsilon] instead of zero.")
        var randomStart = false

        @Option(name: .long, help: ArgumentHelp(
            "Apply the class-wise noise of an earlier output folder (its noise.npy) instead of making new noise; repeated, the noises are summed and clipped to epsilon.",
            valueName: "folder"))
        var noiseFrom: [String] = []

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func settings() throws -> UnlearnableSettings {
            var s = UnlearnableSettings(mode: mode)
            s.epsilon = epsilon
            s.stepSize = stepSize
            if let pgdSteps { s.pgdSteps = pgdSteps }
            s.trainSteps = trainSteps
            s.stopError = stopError
            if let subset { s.subset = subset }
            s.model = model
            s.classUpdate = classUpdate
            s.noiseTile = noiseTile
            s.restartEvery = restartEvery
            s.decoyClass = decoyClass
            s.seed = seed
            s.maxRounds = maxRounds
            s.batchSize = batchSize
            if randomStart { s.randomStart = true }
            if targetedPoison { s.targetedPoison = true }
            if let size {
                let parts = size.lowercased().split(separator: "x").compactMap { Int($0) }
                guard parts.count == 1 || parts.count == 2 else { throw ValidationError("--size takes N or WxH, got \(size)") }
                s.width = parts[0]
                s.height = parts.count == 2 ? parts[1] : parts[0]
            }
            try s.validate()
            return s
        }

        func validate() throws {
            do { _ = try settings() } catch let error as UnlearnableError { throw ValidationError(error.localizedDescription) }
            if subset != nil && mode == .sample { throw ValidationError("--subset applies to class-wise noise only") }
            if !noiseFrom.isEmpty && mode == .sample {
                throw ValidationError("--noise-from applies class-wise noise; sample-wise noise belongs to the images it was made for")
            }
            if !noiseFrom.isEmpty && decoyClass != nil {
                throw ValidationError("--decoy-class shapes new noise; applied with --noise-from, the earlier noise keeps its own decoy")
            }
            if !noiseFrom.isEmpty && targetedPoison {
                throw ValidationError("--targeted-poison makes new noise for these images; it cannot be applied with --noise-from")
            }
            if !noiseFrom.isEmpty && size != nil { throw ValidationError("--noise-from works at the noise's own size; drop --size") }
            if let n = limitPerClass, n < 1 { throw ValidationError("--limit-per-class must be at least 1") }
        }

        func run() throws {
            if !noiseFrom.isEmpty {
                let applied = try NoiseApplicationJob(inputFolder: trainFolder, outputFolder: out, noiseFolders: noiseFrom,
                                                      limitPerClass: limitPerClass, quiet: quiet)
                    .run(store: storeOptions.open(), arguments: processArguments)
                print(UnlearnableReport.text(applied))
                if applied.failures > 0 { throw ExitCode(1) }
                return
            }
            let summary = try UnlearnableJob(trainFolder: trainFolder, outputFolder: out, settings: settings(),
                                             limitPerClass: limitPerClass, quiet: quiet)
                .run(store: storeOptions.open(), arguments: processArguments)
            print(UnlearnableReport.text(summary))
            if summary.failures > 0 { throw ExitCode(1) }
        }
    }
}
