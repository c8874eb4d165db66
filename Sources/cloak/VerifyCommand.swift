import ArgumentParser
import CloakKit
import Foundation

extension Countermeasure: ExpressibleByArgument {}

extension Cloak {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a protection claim: train models on protected data, or run a face tracker on cloaked photos.",
            subcommands: [Dataset.self, Faces.self],
            defaultSubcommand: Dataset.self
        )
    }
}

extension Cloak.Verify {
    struct Dataset: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dataset",
            abstract: "Train fresh models on a (protected) ImageFolder and report clean-test accuracy per epoch.",
            discussion: """
                Trains one model from scratch per countermeasure on <train-folder>, and the same on --baseline \
                (clean data) when given, and tests each after every epoch on --test. The headline is the worst \
                case: the countermeasure under which the protected model learns most (best epoch). Writes report.json, \
                report.md and report.html (accuracy plot, table, sample images) to --report (default \
                reports/verify-<run>) and prints the summary. A protection is reported as holding only when \
                no listed countermeasure breaks it. After an interruption, the same command resumes: the \
                models already trained are kept (while their data is unchanged) and the one in training \
                continues from its last epoch. A model an earlier run trained on the same data with the same \
                settings (typically the clean baseline) is reused from the store instead of trained again, \
                since training is deterministic; --retrain trains it again. An image that cannot be \
                read is reported with its path and reason and left out; the exit status is then 1. `cloak verify <folder> ...` is short for \
                `cloak verify dataset <folder> ...`.
                """
        )

        @Argument(help: ArgumentHelp("Training data (ImageFolder), usually protected.", valueName: "train-folder"))
        var trainFolder: String

        @Option(name: .long, help: ArgumentHelp("Clean test data (ImageFolder with the same classes).", valueName: "folder"))
        var test: String

        @Option(name: .long, help: ArgumentHelp("Clean training data to compare with.", valueName: "folder"))
        var baseline: String?

        @Option(name: .long, help: "Model to train.")
        var model: UnlearnableSettings.Model = .small

        @Option(name: .long, help: ArgumentHelp("Training epochs per model.", valueName: "n"))
        var epochs: Int = 10

        @Option(name: .long, parsing: .upToNextOption,
                help: ArgumentHelp("Countermeasures, comma-separated: none, jpeg10, grayscale, augment, median, bitdepth, adversarial (slow), or all.",
                                   valueName: "list"))
        var countermeasures: [String] = ["none"]

        @Option(name: .long, help: ArgumentHelp("Use the first N training images of each class.", valueName: "N"))
        var limitPerClass: Int?

        @Option(name: .long, help: ArgumentHelp("Adversarial training: PGD steps per batch.", valueName: "n"))
        var adversarialSteps: Int = 10

        @Option(name: .long, help: ArgumentHelp("Batch size.", valueName: "n"))
        var batchSize: Int = 128

        @Option(name: .long, help: ArgumentHelp(
            "Clean-test checks per epoch; above 1 also checks within each epoch and judges on the best check.",
            valueName: "n"))
        var checksPerEpoch: Int = 1

        @Option(name: .long, help: ArgumentHelp(
            "Partial protection: replace this fraction of the protected images (random) by their clean originals from --baseline.",
            valueName: "f"))
        var cleanFraction: Double = 0

        @Option(name: .long, help: "Random seed (initialisation, batch order).")
        var seed: UInt64 = 0

        @Option(name: .long, help: ArgumentHelp("Folder for report.json, report.md and report.html.", valueName: "folder"))
        var report: String?

        @Flag(name: .long, help: "Train every model, even one an earlier run trained on the same data with the same settings.")
        var retrain = false

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func parsedCountermeasures() throws -> [Countermeasure] {
            let names = countermeasures.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            var out: [Countermeasure] = []
            for name in names where !name.isEmpty {
                if name == "all" {
                    out += Countermeasure.allCases.filter { !out.contains($0) }
                    continue
                }
                guard let c = Countermeasure(rawValue: name) else {
                    throw ValidationError("unknown countermeasure '\(name)'; known: "
                                          + Countermeasure.allCases.map(\.rawValue).joined(separator: ", ") + ", all")
                }
                if !out.contains(c) { out.append(c) }
            }
            guard !out.isEmpty else { throw ValidationError("--countermeasures needs at least one") }
            return out
        }

        func validate() throws {
            _ = try parsedCountermeasures()
            if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
            if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
            if checksPerEpoch < 1 { throw ValidationError("--checks-per-epoch must be at least 1") }
            if let n = limitPerClass, n < 1 { throw ValidationError("--limit-per-class must be at least 1") }
            if !(cleanFraction >= 0 && cleanFraction < 1) { throw ValidationError("--clean-fraction must be in [0, 1)") }
            if cleanFraction > 0 && baseline == nil {
                throw ValidationError("--clean-fraction needs --baseline: the clean originals of the protected images")
            }
        }

        func run() throws {
            var settings = VerifySettings()
            settings.model = model
            settings.epochs = epochs
            settings.seed = seed
            settings.batchSize = batchSize
            settings.countermeasures = try parsedCountermeasures()
            settings.limitPerClass = limitPerClass
            settings.adversarialSteps = adversarialSteps
            settings.checksPerEpoch = checksPerEpoch
            settings.cleanFraction = cleanFraction
            var verifier = Verifier(trainFolder: trainFolder, testFolder: test, baselineFolder: baseline,
                                    reportFolder: report, settings: settings, quiet: quiet)
            verifier.reusesTrainedModels = !retrain
            let outcome = try verifier.run(store: storeOptions.open(), arguments: processArguments)
            print(VerificationReport.markdown(outcome.result))
            print("Report: \(outcome.reportFolder)/report.html")
            if !(outcome.result.unreadableFiles ?? []).isEmpty { throw ExitCode(1) }
        }
    }
}
