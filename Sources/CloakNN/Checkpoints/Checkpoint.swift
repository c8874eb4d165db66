import CloakSupport
import CloakTensor
import Foundation

/// Saved weights and buffers of a model, in a small versioned binary format with a content hash.
///
/// Format version 1 (all integers little-endian):
/// ```
/// "CLOAKCKP"                      8-byte magic
/// UInt32 version                  1
/// UInt32 entryCount
/// entryCount × { UInt8 kind (0 parameter, 1 buffer), UInt32 nameLength, UTF-8 name,
///                UInt32 rank, rank × UInt32 extent, product(extents) × Float32 }
/// 32 bytes                         SHA-256 of every byte before it
/// ```
/// Tensors are stored in the engine's layouts (see `Tensor`). Reading checks the magic, the version, the hash and
/// the structure, and fails with a `CheckpointError` otherwise.
public struct Checkpoint: Sendable {
    /// The format version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    static let magic = Array("CLOAKCKP".utf8)

    /// Whether an entry is a trainable parameter or a buffer.
    public enum Kind: UInt8, Sendable { case parameter = 0, buffer = 1 }

    /// The stored tensors, in model order.
    public private(set) var entries: [(name: String, kind: Kind, tensor: Tensor)]

    /// Captures every parameter and buffer of `model` under its dotted name.
    public init(of model: any Layer) {
        entries = model.parameters.map { ($0.name, .parameter, $0.parameter.value) }
            + model.buffers.map { ($0.name, .buffer, $0.buffer.value) }
    }

    /// Decodes a checkpoint and verifies its version and content hash.
    public init(data: Data) throws {
        var reader = ByteReader(bytes: [UInt8](data))
        guard data.count >= Self.magic.count + 4 + 32, reader.take(Self.magic.count) == Self.magic else {
            throw CheckpointError.notACheckpoint
        }
        let version = try reader.uint32()
        guard version == Self.formatVersion else {
            throw CheckpointError.unsupportedVersion(found: version, supported: Self.formatVersion)
        }
        let body = [UInt8](data.prefix(data.count - 32))
        let storedHash = [UInt8](data.suffix(32))
        guard FileDigest.sha256Digest(body) == storedHash else { throw CheckpointError.hashMismatch }
        reader = ByteReader(bytes: body)
        _ = reader.take(Self.magic.count + 4)
        let count = try reader.uint32()
        var entries: [(String, Kind, Tensor)] = []
        for _ in 0..<count {
            guard let kind = Kind(rawValue: try reader.uint8()) else { throw CheckpointError.malformed("unknown entry kind") }
            let nameBytes = try reader.bytes(Int(try reader.uint32()))
            let name = String(decoding: nameBytes, as: UTF8.self)
            let rank = Int(try reader.uint32())
            let shape = try (0..<rank).map { _ in Int(try reader.uint32()) }
            let scalars = try (0..<shape.reduce(1, *)).map { _ in Float(bitPattern: try reader.uint32()) }
            entries.append((name, kind, Tensor(shape: shape, scalars: scalars)))
        }
        guard reader.isAtEnd else { throw CheckpointError.malformed("trailing bytes after the last entry") }
        self.entries = entries
    }

    /// Reads and verifies a checkpoint file.
    public init(contentsOf url: URL) throws {
        try self.init(data: try Data(contentsOf: url))
    }

    /// The encoded checkpoint, hash included.
    public func serialized() -> Data {
        var out = Self.magic
        append(Self.formatVersion, to: &out)
        append(UInt32(entries.count), to: &out)
        for (name, kind, tensor) in entries {
            out.append(kind.rawValue)
            let nameBytes = Array(name.utf8)
            append(UInt32(nameBytes.count), to: &out)
            out += nameBytes
            append(UInt32(tensor.shape.count), to: &out)
            for extent in tensor.shape { append(UInt32(extent), to: &out) }
            tensor.withUnsafeBufferPointer { p in
                out.reserveCapacity(out.count + 4 * p.count)
                for v in p { append(v.bitPattern, to: &out) }
            }
        }
        out += FileDigest.sha256Digest(out)
        return Data(out)
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func write(to url: URL) throws {
        try serialized().write(to: url, options: .atomic)
    }

    /// SHA-256 of the encoded checkpoint (hex), suitable for provenance records.
    public var contentHash: String { FileDigest.sha256(serialized()) }

    /// Copies the stored tensors into `model`. Every parameter and buffer of the model must be present with the
    /// same shape, and the checkpoint must hold nothing else.
    public func load(into model: any Layer) throws {
        var stored = [String: (Kind, Tensor)]()
        for (name, kind, tensor) in entries { stored[name] = (kind, tensor) }
        let targets: [(String, Kind, (Tensor) -> Void, [Int])] =
            model.parameters.map { p in (p.name, .parameter, { p.parameter.value = $0 }, p.parameter.value.shape) }
            + model.buffers.map { b in (b.name, .buffer, { b.buffer.value = $0 }, b.buffer.value.shape) }
        for (name, kind, _, shape) in targets {
            guard let (storedKind, tensor) = stored[name], storedKind == kind else {
                throw CheckpointError.missingTensor(name: name)
            }
            guard tensor.shape == shape else {
                throw CheckpointError.shapeMismatch(name: name, expected: shape, found: tensor.shape)
            }
        }
        if let extra = Set(stored.keys).subtracting(targets.map(\.0)).sorted().first {
            throw CheckpointError.unexpectedTensor(name: extra)
        }
        for (name, _, assign, _) in targets { assign(stored[name]!.1) }
    }
}

/// Why a checkpoint could not be read or loaded.
public enum CheckpointError: LocalizedError, Equatable {
    case notACheckpoint
    case unsupportedVersion(found: UInt32, supported: UInt32)
    case hashMismatch
    case malformed(String)
    case missingTensor(name: String)
    case unexpectedTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    /// A one-sentence explanation of the error, for `LocalizedError`.
    public var errorDescription: String? {
        switch self {
        case .notACheckpoint: "The file is not a Cloak checkpoint (bad magic bytes or too short)."
        case let .unsupportedVersion(found, supported):
            "Checkpoint format version \(found) is not supported; this build reads version \(supported)."
        case .hashMismatch: "The checkpoint's content hash does not match its contents; the file is corrupt."
        case let .malformed(reason): "The checkpoint is malformed: \(reason)."
        case let .missingTensor(name): "The checkpoint has no tensor named \(name) for this model."
        case let .unexpectedTensor(name): "The checkpoint holds \(name), which this model does not have."
        case let .shapeMismatch(name, expected, found):
            "Checkpoint tensor \(name) has shape \(found), but the model expects \(expected)."
        }
    }
}

private func append(_ value: UInt32, to bytes: inout [UInt8]) {
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
}

/// Sequential little-endian reads that throw `CheckpointError.malformed` past the end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int) -> [UInt8] {
        let end = min(offset + n, bytes.count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, offset + n <= bytes.count else { throw CheckpointError.malformed("truncated") }
        return take(n)
    }

    mutating func uint8() throws -> UInt8 { try bytes(1)[0] }

    mutating func uint32() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw CheckpointError.malformed("truncated") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return v
    }
}
