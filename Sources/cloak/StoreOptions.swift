import ArgumentParser
import CloakKit
import Foundation

/// Options every store-using command shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Provenance database to use.",
        discussion: "Default: $CLOAK_STORE, else Store/cloak.sqlite under the working directory.",
        valueName: "path"))
    var store: String?

    /// Opens the store this invocation uses, creating it when missing.
    func open() throws -> ProvenanceStore {
        try ProvenanceStore(path: ProvenanceStore.resolvePath(explicit: store))
    }

    /// Opens the store for a command that only reads it (`history`, `show`): a missing store is an error, not
    /// a new empty one (a mistyped --store would otherwise leave a database, and its folders, behind).
    func openExisting() throws -> ProvenanceStore {
        let path = ProvenanceStore.resolvePath(explicit: store)
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.noStore(path: path) }
        return try ProvenanceStore(path: path)
    }
}

/// The face-model folder option `cloak faces` and `cloak verify faces` share.
struct FaceModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Folder with dlib's model files.",
        discussion: "Default: $CLOAK_MODELS, else Datasets/dlib-models (where make setup puts them).",
        valueName: "folder"))
    var models: String?

    @Option(name: .long, help: ArgumentHelp(
        "Doublings of each photo before face detection.",
        discussion: "0 finds faces from about 80 pixels, 1 from about 40 (as face_recognition, the common dlib "
            + "tracker, does by default), 2 from about 20; each doubling quadruples the detection time.",
        valueName: "n"))
    var upsample = FaceModels.defaultUpsample

    func validate() throws {
        guard FaceModels.upsampleRange.contains(upsample) else {
            throw ValidationError("--upsample must be \(FaceModels.upsampleRange), got \(upsample)")
        }
    }

    /// The folder to load the models from (see ``FaceModels/locate(explicit:environment:)``).
    var directory: String { FaceModels.locate(explicit: models) }
}

/// The process arguments, recorded with each run.
var processArguments: [String] { CommandLine.arguments }
