import ArgumentParser
import CloakKit
import Foundation

extension Cloak {
    struct Datasets: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get data sets onto disk as image folders.",
            subcommands: [Import.self]
        )
    }
}

extension Cloak.Datasets {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a packaged data set as a PNG ImageFolder tree (train/ and test/, one folder per class).",
            discussion: """
                fashion-mnist: Zalando's Fashion-MNIST (MIT licence) from Debian's dataset-fashion-mnist \
                package (installed by `make setup`). Writes 60,000 train and 10,000 test 28x28 grey PNGs. \
                Importing again with the same settings is a no-op; an interrupted import resumes.
                """
        )

        @Argument(help: "Data set to import. Known: fashion-mnist.")
        var name: String

        @Option(name: .long, help: ArgumentHelp("Root folder to write.", valueName: "folder"))
        var out: String = "Datasets/fashion-mnist"

        @Option(name: .long, help: ArgumentHelp("Import only the first N images of each class in each split.",
                                                valueName: "N"))
        var limitPerClass: Int?

        @Option(name: .long, help: ArgumentHelp("Folder holding the gzip-compressed IDX files.", valueName: "folder"))
        var source: String = "/usr/share/datasets/fashion-mnist"

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            guard name == "fashion-mnist" else {
                throw ValidationError("unknown data set '\(name)'; known: fashion-mnist")
            }
            if let n = limitPerClass, n < 1 {
                throw ValidationError("--limit-per-class must be at least 1")
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let summary = try DatasetImport(
                options: .init(sourceDirectory: source, outputDirectory: out, limitPerClass: limitPerClass),
                quiet: quiet
            ).run(store: store, arguments: processArguments)
            print(DatasetImportReport.text(summary))
        }
    }
}
