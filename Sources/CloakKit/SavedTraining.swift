import CloakData
import CloakImage
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// SGD momentum buffers saved as one flat float32 `.npy` file; the names and shapes that split it again
/// (``Entry``) go into the saving job's state JSON. Used by every resumable training: noise generation's
/// surrogate (``UnlearnableState``) and `cloak verify`'s models (``VerifyTrainingState``).
enum SavedMomentum {
    /// One buffer: the parameter's name and the buffer's shape.
    struct Entry: Codable, Equatable {
        var name: String
        var shape: [Int]
    }

    /// What went wrong reading saved buffers.
    struct ReadError: Error {
        var path: String
        var reason: String
    }

    /// Writes `optimizer`'s buffers (sorted by name) to `path`, atomically, and returns their entries.
    static func write(_ optimizer: SGD, to path: String) throws -> [Entry] {
        var flat: [Float] = []
        var entries: [Entry] = []
        for name in optimizer.momentumBuffers.keys.sorted() {
            let t = optimizer.momentumBuffers[name]!
            entries.append(Entry(name: name, shape: t.shape))
            flat += t.scalars
        }
        try writeFileAtomically(NPYFile.encode(flat, shape: [flat.count]), to: path)
        return entries
    }

    /// Sets `optimizer`'s buffers from `path`, split as `entries` says.
    static func restore(_ entries: [Entry], into optimizer: SGD, from path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(path: path, reason: "file missing") }
        let flat = try NPYFile.decode([UInt8](data), path: path).values
        var offset = 0
        var buffers: [String: Tensor] = [:]
        for entry in entries {
            let n = entry.shape.reduce(1, *)
            guard offset + n <= flat.count else { throw ReadError(path: path, reason: "momentum buffers are truncated") }
            buffers[entry.name] = Tensor(shape: entry.shape, scalars: Array(flat[offset..<(offset + n)]))
            offset += n
        }
        optimizer.momentumBuffers = buffers
    }
}

/// Removes the files `<prefix><n>.<ext>` in `folder` for every `n` other than `kept`: once a resumable job's
/// state names its newest save, the earlier ones are of no use.
func removeEarlierSaves(in folder: String, prefixes: [String], keeping kept: Int) {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        for prefix in prefixes where name.hasPrefix(prefix) {
            let number = name.dropFirst(prefix.count).split(separator: ".").first.flatMap { Int($0) }
            if let number, number != kept { try? FileManager.default.removeItem(atPath: "\(folder)/\(name)") }
        }
    }
}
