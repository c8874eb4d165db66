import ArgumentParser
import CloakKit
import Foundation

extension Cloak {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the demo on real data (what `make demo` runs)."
        )

        @Option(name: .long, help: ArgumentHelp("Folder for the demo's data sets.", valueName: "folder"))
        var datasets: String = "Datasets"

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            try CloakKit.Demo(datasetsDirectory: datasets, quiet: quiet)
                .run(store: storeOptions.open(), arguments: processArguments) { line in
                    // Unbuffered, so the report interleaves correctly with progress on standard error.
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
        }
    }
}
