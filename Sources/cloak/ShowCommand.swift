import ArgumentParser
import CloakKit

extension Cloak {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the full provenance of an input or output file, found by its content hash.",
            discussion: "Works after the file was moved or renamed: the file is identified by its SHA-256."
        )

        @Argument(help: ArgumentHelp("A file, or the 64-digit SHA-256 of one.", valueName: "file"))
        var file: String

        @Flag(name: .long, help: "Print JSON instead of text.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let provenance = try ShowReport.lookup(file, in: storeOptions.openExisting())
            print(json ? try ShowReport.json(provenance) : ShowReport.text(provenance, query: file), terminator: "")
            if provenance.isEmpty { throw ExitCode(1) }
        }
    }
}
