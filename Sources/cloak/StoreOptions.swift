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

/// The face-model folder option `cloak faces` and `cloak verify faces` share.
struct FaceModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Folder with dlib's model files.",
        discussion: "Default: $CLOAK_MODELS, else Datasets/dlib-models (where make setup puts them).",
        valueName: "folder"))
    var models: String?

    /// The folder to load the models from (see ``FaceModels/locate(explicit:environment:)``).
    var directory: String { FaceModels.locate(explicit: models) }
}

/// The process arguments, recorded with each run.
var processArguments: [String] { CommandLine.arguments }
