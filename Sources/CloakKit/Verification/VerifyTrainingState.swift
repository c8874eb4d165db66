import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The resumable state of one `cloak verify` model, saved after every epoch in
/// `<report folder>/.cloak-verify/<countermeasure>-<protected|baseline>/`.
///
/// Files after epoch e: `model-e.ckpt` (weights and batch-norm statistics, a ``Checkpoint``), `momentum-e.npy`
/// (the SGD momentum buffers, see ``SavedMomentum``), then `state.json`, written last and atomically, which
/// names epoch e; the files of earlier epochs are removed after. A kill at any moment leaves a consistent
/// epoch to resume from. The folder is removed once the model is recorded in the store.
struct VerifyTrainingState: Codable {
    /// Identifies the training: verification settings, countermeasure, role and the data's content hashes.
    var key: String
    /// Epochs completed.
    var epochs: Int
    var accuracies: [Double]
    var trainingLosses: [Double]
    var checkAccuracies: [[Double]]
    /// Training time so far, over every invocation.
    var seconds: Double
    /// ``SplitMix64/state`` after the last completed epoch.
    var generator: UInt64
    var momentum: [SavedMomentum.Entry]

    static func folder(in report: String, countermeasure: Countermeasure, isBaseline: Bool) -> String {
        "\(report)/.cloak-verify/\(countermeasure.rawValue)-\(isBaseline ? "baseline" : "protected")"
    }

    /// The state saved in `folder` for the training `key`, or `nil` when there is none (or it belongs to
    /// another training, or cannot be read: the model is then trained from the start).
    static func load(from folder: String, key: String) -> VerifyTrainingState? {
        guard let data = FileManager.default.contents(atPath: folder + "/state.json"),
              let state = try? JSONDecoder().decode(VerifyTrainingState.self, from: data), state.key == key else { return nil }
        return state
    }

    /// Loads the saved model and momentum into `model` and `optimizer`.
    func restore(into model: any Layer, optimizer: SGD, folder: String) throws {
        try Checkpoint(contentsOf: URL(fileURLWithPath: "\(folder)/model-\(epochs).ckpt")).load(into: model)
        try SavedMomentum.restore(momentum, into: optimizer, from: "\(folder)/momentum-\(epochs).npy")
    }

    /// Saves the state after epoch `epochs` and removes the files of earlier epochs.
    func save(model: any Layer, optimizer: SGD, folder: String) throws {
        try createDirectory(folder)
        try writeFileAtomically([UInt8](Checkpoint(of: model).serialized()), to: "\(folder)/model-\(epochs).ckpt")
        var state = self
        state.momentum = try SavedMomentum.write(optimizer, to: "\(folder)/momentum-\(epochs).npy")
        try writeFileAtomically(Array(try JSON.pretty(state).utf8), to: "\(folder)/state.json")
        removeEarlierSaves(in: folder, prefixes: ["model-", "momentum-"], keeping: epochs)
    }
}
