import ArgumentParser
import CloakKit

extension Cloak {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check images: decode each file, show its size, format and metadata (GPS!), record it.",
            discussion: """
                Files and folders (recursive; .png, .jpg, .jpeg). A file that cannot be read is reported \
                with its path and reason and recorded as a failure of the run; the rest go on. Exits with \
                status 1 when any file failed.
                """
        )

        @Argument(help: ArgumentHelp("Image files or folders.", valueName: "path"))
        var paths: [String]

        @Option(name: .long, help: ArgumentHelp("Refuse images with more pixels than this (megapixels), checked from the header before decoding.", valueName: "MP"))
        var maxMegapixels: Int = 100

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        @Flag(name: .long, help: "No progress or per-file errors on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if paths.isEmpty { throw ValidationError("give at least one file or folder") }
            if maxMegapixels < 1 { throw ValidationError("--max-megapixels must be at least 1") }
        }

        func run() throws {
            let summary = try ImageInspection(
                paths: paths, decodeOptions: DecodeOptions(maxPixels: maxMegapixels * 1_000_000), quiet: quiet
            ).run(store: storeOptions.open(), arguments: processArguments)
            print(json ? try InspectionReport.json(summary) : InspectionReport.text(summary), terminator: "")
            if !summary.failures.isEmpty { throw ExitCode(1) }
        }
    }
}
