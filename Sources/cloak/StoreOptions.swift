import ArgumentParser
import CloakKit
import CloakStore
import Foundation

/// Options every store-using command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Provenance database to use.",
        discussion: "Default: $CLOAK_STORE, else Store/cloak.sqlite under the working directory.",
        valueName: "path"))
    var store: String?

    /// Opens the store this invocation uses.
    func open() throws -> ProvenanceStore {
        try ProvenanceStore(path: ProvenanceStore.resolvePath(explicit: store))
    }
}

/// The process arguments, recorded with each run.
var processArguments: [String] { CommandLine.arguments }
