import ArgumentParser
import CloakKit
import Foundation

extension UnlearnableSettings.Mode: ExpressibleByArgument {}
extension UnlearnableSettings.Model: ExpressibleByArgument {}
extension UnlearnableSettings.Method: ExpressibleByArgument {}

extension Cloak {
    struct Unlearnable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a labelled image folder unlearnable with error-minimising noise or the one-pixel shortcut.",
            discussion: """
                Input: an ImageFolder tree <folder>/<class>/<image>.png|jpg. Output: the same tree under --out \
                with every image cloaked (PNG, each at its own size, L-inf <= epsilon), noise.npy (float32, \
                NCHW), noise.json and unlearnable.json, nothing else: torchvision's ImageFolder loads it with the \
                input's classes. The resumable state lives beside the store (Store/state/) and is removed when \
                the run completes (--keep-state keeps it): after an interruption, the same command continues from \
                the last completed round. Defaults per mode follow the reference implementation (Huang et al., ICLR \
                2021): class-wise 1 PGD step on a 20% subset, sample-wise 20 PGD steps; both 10 surrogate \
                batches per round, step 0.8/255, stop error 0.01. No augmentation is used while generating. \
                --method ops instead sets one pixel of every image to its class's colour (Wu et al., ICLR 2023): \
                no surrogate and no rounds; noise.json then lists the pixels. \
                An image that cannot be read is reported with its path and reason and left out (the rest are \
                cloaked); the exit status is then 1.
                """
        )

        @Argument(help: ArgumentHelp("The ImageFolder to protect.", valueName: "train-folder"))
        var trainFolder: String

        @Option(name: .long, help: ArgumentHelp("Folder for the cloaked copy.", valueName: "folder"))
        var out: String

        @Option(name: .long, help: ArgumentHelp(
            "The poison: em (error-minimising noise within --epsilon) or ops (the one-pixel shortcut: one pixel per image, class-wise).",
            valueName: "em|ops"))
        var method: UnlearnableSettings.Method = .em

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

        @Flag(name: .long, help: ArgumentHelp(
            "Then also push every image toward the next class's features (class-targeted adversarial poisoning, Fowl et al. 2021), summed with the noise within epsilon; the noise becomes one per image."))
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

        @Option(name: .long, help: ArgumentHelp(
            "Apply the class-wise noise of an earlier output folder (its noise.npy) instead of making new noise.",
            valueName: "folder"))
        var noiseFrom: String?

        @Flag(name: .long, help: "Keep the resumable state (surrogate checkpoint, optimiser state) after the run completes.")
        var keepState = false

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func settings() throws -> UnlearnableSettings {
            var s = UnlearnableSettings(mode: mode)
            s.method = method
            s.epsilon = epsilon
            s.stepSize = stepSize
            if let pgdSteps { s.pgdSteps = pgdSteps }
            s.trainSteps = trainSteps
            s.stopError = stopError
            if let subset { s.subset = subset }
            s.model = model
            s.seed = seed
            s.maxRounds = maxRounds
            s.batchSize = batchSize
            s.targetedPoison = targetedPoison
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
            do { _ = try settings() } catch let error as SettingError { throw ValidationError(FlagNames.message(of: error)) }
            if subset != nil && mode == .sample { throw ValidationError("--subset applies to class-wise noise only") }
            if noiseFrom != nil && mode == .sample {
                throw ValidationError("--noise-from applies class-wise noise; sample-wise noise belongs to the images it was made for")
            }
            if noiseFrom != nil && method != .em {
                throw ValidationError("--noise-from applies error-minimising noise; --method \(method.rawValue) works on the whole set")
            }
            if noiseFrom != nil && targetedPoison {
                throw ValidationError("--targeted-poison makes new noise for these images; it cannot be applied with --noise-from")
            }
            if noiseFrom != nil && size != nil { throw ValidationError("--noise-from works at the noise's own size; drop --size") }
            if let n = limitPerClass, n < 1 { throw ValidationError("--limit-per-class must be at least 1") }
        }

        func run() throws {
            if let noiseFrom {
                let applied = try NoiseApplicationJob(inputFolder: trainFolder, outputFolder: out, noiseFolder: noiseFrom,
                                                      limitPerClass: limitPerClass, quiet: quiet)
                    .run(store: storeOptions.open(), arguments: processArguments)
                print(UnlearnableReport.text(applied))
                print("Check it: cloak verify \(applied.outputFolder) --test <clean test folder>")
                if applied.failures > 0 { throw ExitCode(1) }
                return
            }
            var job = UnlearnableJob(trainFolder: trainFolder, outputFolder: out, settings: try settings(),
                                     limitPerClass: limitPerClass, quiet: quiet)
            job.keepsState = keepState
            let summary = try job.run(store: storeOptions.open(), arguments: processArguments)
            print(UnlearnableReport.text(summary))
            if summary.alreadyDone != true { print("Check it: cloak verify \(summary.outputFolder) --test <clean test folder>") }
            if summary.failures > 0 { throw ExitCode(1) }
        }
    }
}
