import CloakStore
import CloakSupport
import Foundation

/// `cloak show <file>`: the full provenance of a file, found by its content hash.
public enum ShowReport {
    /// Looks up `pathOrHash`: an existing file is hashed; otherwise a 64-digit hex string is taken as a
    /// SHA-256.
    ///
    /// - Throws: ``ShowError/notFound(_:)`` when it is neither a file nor a hash.
    public static func lookup(_ pathOrHash: String, in store: ProvenanceStore) throws -> FileProvenance {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: pathOrHash, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw ShowError.isFolder(pathOrHash) }
            return try store.provenance(sha256: try FileDigest.sha256(ofFileAt: pathOrHash))
        }
        let hex = pathOrHash.lowercased()
        if hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) {
            return try store.provenance(sha256: hex)
        }
        throw ShowError.notFound(pathOrHash)
    }

    /// Human-readable provenance.
    public static func text(_ p: FileProvenance, query: String) -> String {
        var out = "\(query)\n  sha256 \(p.sha256)\n"
        if p.isEmpty {
            out += "  The store knows nothing about this content: it was not read or written by a recorded run.\n"
            return out
        }
        if let first = p.locations.first {
            var line = "  \(ProgressReporter.grouped(Int(first.byteCount))) bytes"
            if let w = first.width, let h = first.height { line += ", \(w)x\(h)" }
            if let f = first.format { line += ", \(f)" }
            out += line + "\n"
        }
        for location in p.locations {
            out += "  seen at \(location.path)\n"
        }
        for made in p.producedBy {
            out += "\nMade by run \(made.run.id ?? 0): \(runLine(made.run))\n"
            out += "  command     \(HistoryReport.commandLine(made.run.arguments, fallback: made.run.command))\n"
            out += "  from        \(made.inputFile.path) (sha256 \(made.inputFile.sha256.prefix(16))...)\n"
            out += "  parameters  \(made.run.parameters)\n"
            for use in made.models {
                out += "  model       \(use.role): \(use.model.name) (sha256 \(use.model.sha256.prefix(16))...)\n"
            }
            out += "  measured    \(metrics(made.output))\n"
            if made.output.details != "{}" { out += "  details     \(made.output.details)\n" }
            for face in made.faces { out += "  face \(face.faceIndex)      \(faceLine(face))\n" }
        }
        if !p.derivedOutputs.isEmpty {
            out += "\nOutputs made from it:\n"
            for d in p.derivedOutputs {
                out += "  run \(d.run.id ?? 0) (\(d.run.command)): \(d.outputFile.path), \(metrics(d.output))\n"
            }
        }
        if !p.readBy.isEmpty {
            out += "\nRead as a whole by:\n"
            for use in p.readBy {
                out += "  run \(use.run.id ?? 0) (\(use.run.command), \(use.run.status.rawValue)) as \(use.role)\n"
            }
        }
        if !p.failures.isEmpty {
            out += "\nFailures at its paths:\n"
            for f in p.failures { out += "  run \(f.runID): \(f.reason)\n" }
        }
        return out
    }

    /// The provenance as JSON.
    public static func json(_ p: FileProvenance) throws -> String {
        try JSON.pretty(p) + "\n"
    }

    static func runLine(_ run: RunRecord) -> String {
        var parts = [run.command, run.status.rawValue, HistoryReport.timestamp(run.startedAt)]
        if let end = run.finishedAt { parts.append(ProgressReporter.duration(end.timeIntervalSince(run.startedAt))) }
        parts.append("cloak \(run.toolVersion)")
        if let seed = run.seed { parts.append("seed \(seed)") }
        return parts.joined(separator: ", ")
    }

    /// `"box (l,t)-(r,b), shift 0.760 (after JPEG q85 0.756, q75 0.736), RGB DSSIM 0.0041, PSNR 39.9 dB, L-inf 6, 2.0s"`.
    static func faceLine(_ f: FaceRecord) -> String {
        var line = "box (\(f.boxLeft),\(f.boxTop))-(\(f.boxRight),\(f.boxBottom)), shift " + String(format: "%.3f", f.embeddingShift)
        if let a = f.shiftAfterJPEG85, let b = f.shiftAfterJPEG75 {
            line += String(format: " (after JPEG q85 %.3f, q75 %.3f)", a, b)
        }
        if let t = f.targetDistance { line += String(format: ", to target %.3f", t) }
        line += String(format: ", RGB DSSIM %.4f, ", f.dssim) + (f.psnr.map { String(format: "PSNR %.1f dB", $0) } ?? "unchanged")
        return line + ", L-inf \(f.linf), " + String(format: "%.1fs", f.seconds)
    }

    static func metrics(_ o: OutputRecord) -> String {
        var parts: [String] = []
        if let v = o.linf { parts.append(String(format: "L-inf %g/255", v)) }
        if let v = o.l2 { parts.append(String(format: "L2 %.4g", v)) }
        parts.append(o.psnr.map { String(format: "PSNR %.2f dB", $0) } ?? "PSNR inf (identical)")
        if let v = o.ssim { parts.append(String(format: "SSIM %.4f", v)) }
        return parts.joined(separator: ", ")
    }
}

/// Failures of `cloak show`.
public enum ShowError: Error, LocalizedError, Equatable {
    case notFound(String)
    case isFolder(String)

    public var errorDescription: String? {
        switch self {
        case .notFound(let s): return "\(s): no such file (give a file, or a 64-digit SHA-256)"
        case .isFolder(let s): return "\(s): is a folder; give one file"
        }
    }
}
