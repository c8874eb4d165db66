import CloakData
import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The resumable state of a noise-generation job, saved after every round in its state folder
/// (``UnlearnableJob/stateFolder(store:jobKey:)``, outside the published output).
///
/// Files of round r: `noise-r.npy` (the noise, flat), `surrogate-r.ckpt` (model weights and buffers, a
/// ``Checkpoint``), `momentum-r.npy` (the SGD momentum buffers, concatenated in the order listed in the
/// state), then `state.json`, written last and atomically, names round r. Older rounds' files are removed
/// after. A kill at any moment leaves a consistent earlier round to resume from.
struct UnlearnableState: Codable {
    /// Identifies the job: settings (except the round limit), data and working size.
    var jobKey: String
    var round: Int
    var history: [ErrorMinimizingNoise.RoundSummary]
    var momentum: [SavedMomentum.Entry]
    var finished: Bool

    /// Loads the state saved in `folder`, or `nil` when there is none.
    static func load(from folder: String) throws -> UnlearnableState? {
        let path = folder + "/state.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSON.decoder.decode(UnlearnableState.self, from: data)
        } catch {
            throw UnlearnableError.stateMismatch(path: path, reason: "unreadable state: \(error.localizedDescription)")
        }
    }

    /// Restores the noise, the surrogate and the optimiser of the saved round.
    func restore(into model: any Layer, optimizer: SGD, from dir: String) throws -> [Float] {
        let noisePath = "\(dir)/noise-\(round).npy"
        let noise = try NPYFile.decode(Self.read(noisePath), path: noisePath).values
        try Checkpoint(contentsOf: URL(fileURLWithPath: "\(dir)/surrogate-\(round).ckpt")).load(into: model)
        let momentumPath = "\(dir)/momentum-\(round).npy"
        do {
            try SavedMomentum.restore(momentum, into: optimizer, from: momentumPath)
        } catch let error as SavedMomentum.ReadError {
            throw UnlearnableError.stateMismatch(path: error.path, reason: error.reason)
        }
        return noise
    }

    /// Saves round `generator.round` and removes the files of earlier rounds.
    static func save(_ generator: ErrorMinimizingNoise, history: [ErrorMinimizingNoise.RoundSummary], jobKey: String,
                     finished: Bool, in dir: String) throws -> UnlearnableState {
        try createDirectory(dir)
        let r = generator.round
        try writeFileAtomically(NPYFile.encode(generator.noise, shape: [generator.noise.count]), to: "\(dir)/noise-\(r).npy")
        try writeFileAtomically([UInt8](Checkpoint(of: generator.model).serialized()), to: "\(dir)/surrogate-\(r).ckpt")
        let entries = try SavedMomentum.write(generator.optimizer, to: "\(dir)/momentum-\(r).npy")
        let state = UnlearnableState(jobKey: jobKey, round: r, history: history, momentum: entries, finished: finished)
        try writeFileAtomically(Array(try JSON.pretty(state).utf8), to: "\(dir)/state.json")
        removeEarlierSaves(in: dir, prefixes: ["noise-", "surrogate-", "momentum-"], keeping: r)
        return state
    }

    /// Path of the surrogate checkpoint of the saved round.
    func surrogatePath(in folder: String) -> String { "\(folder)/surrogate-\(round).ckpt" }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UnlearnableError.stateMismatch(path: path, reason: "file missing")
        }
        return [UInt8](data)
    }
}
