import ArgumentParser
import CloakKit

extension Cloak {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recent runs: id, command, status, files done and failed, duration."
        )

        @Option(name: .shortAndLong, help: "How many runs to list, newest first.")
        var limit: Int = 20

        @Flag(name: .long, help: "Print JSON instead of a table.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let runs = try storeOptions.openExisting().recentRuns(limit: limit)
            print(json ? try HistoryReport.json(runs) : HistoryReport.text(runs), terminator: "")
        }
    }
}
