import ArgumentParser
import CloakKit

/// The `cloak` command: one subcommand per job, each a thin wrapper around one CloakKit call.
@main
struct Cloak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloak",
        abstract: "Protect images from machine learning, record what was done, and measure whether it holds.",
        discussion: """
            Every command that reads or writes images records its run in the provenance store \
            (Store/cloak.sqlite, or --store, or CLOAK_STORE): command line, settings, seed, input and \
            output content hashes, measured perturbation and failures.
            """,
        version: CloakVersion.current,
        subcommands: [Datasets.self, Unlearnable.self, Faces.self, Verify.self, Inspect.self, History.self, Show.self, Demo.self]
    )

    static func main() {
        OpenMPWaitPolicy.ensurePassive()
        InterruptSignals.unblock()
        StandardError.wording = FlagNames.reworded(_:)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: FlagNames.wordedForTheCommandLine(error))
        }
    }
}
