import CloakData
import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// `cloak inspect`: decodes every image under the given paths, reports what each one is and which
/// metadata it carries (GPS above all), and records the files and the failures in the store.
///
/// This is the batch behaviour every image command shares: each file is decoded on its own; a corrupt,
/// truncated, huge or non-image file is reported with its path and reason, recorded as a failure of
/// the run, and the batch goes on. Nothing is written next to the images.
public struct ImageInspection: Sendable, RecordedJob {
    /// One decoded file.
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var format: String
        public var width: Int
        public var height: Int
        public var description: String
        public var orientation: Int
        public var hasEXIF: Bool
        public var hasGPS: Bool
        public var hasXMP: Bool
        public var hasICCProfile: Bool
        public var hasComment: Bool
    }

    /// One file that could not be used.
    public struct Failure: Codable, Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// What the inspection found.
    public struct Summary: Codable, Sendable {
        public var runID: Int64
        public var entries: [Entry]
        public var failures: [Failure]
    }

    public var paths: [String]
    public var decodeOptions: DecodeOptions
    public var quiet: Bool

    public init(paths: [String], decodeOptions: DecodeOptions = DecodeOptions(), quiet: Bool = false) {
        self.paths = paths
        self.decodeOptions = decodeOptions
        self.quiet = quiet
    }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> Summary {
        try runRecorded(store: store, arguments: arguments)
    }

    static let command = "inspect"

    /// The files found under the paths, and the paths that could not be walked.
    func prepare() throws -> FileWalker.Result { FileWalker().walk(paths) }

    func identity(of walked: FileWalker.Result) throws -> JobIdentity {
        JobIdentity(parameters: try JSON.string(InspectParameters(
            paths: paths.map(FileRecords.absolute), maxPixels: decodeOptions.maxPixels,
            maxFileBytes: decodeOptions.maxFileBytes)))
    }

    func work(_ walked: FileWalker.Result, run: RecordedRun, store: ProvenanceStore) throws -> Summary {
        var failures: [Failure] = []
        func fail(_ path: String, _ reason: String) {
            let message = reason.hasPrefix(path) ? reason : "\(path): \(reason)"
            failures.append(Failure(path: FileRecords.absolute(path), reason: message))
            run.recordFailure(path: FileRecords.absolute(path), reason: message)
            if !quiet { StandardError.print("error: \(message)") }
        }
        for problem in walked.problems { fail(problem.path, problem.reason) }
        let progress = ProgressReporter("inspect", total: walked.files.count, unit: "files", quiet: quiet)
        var entries: [Entry] = []
        for path in walked.files {
            defer { progress.advance() }
            do {
                entries.append(try inspect(path, run: run, store: store))
            } catch let error as StoreError {
                throw error   // the store failing is not the file's fault: stop
            } catch {
                fail(path, error.localizedDescription)
            }
        }
        progress.finish()
        return Summary(runID: run.id, entries: entries, failures: failures)
    }

    func finishMessage(for summary: Summary) -> String? {
        summary.failures.isEmpty ? nil : "\(summary.failures.count) file(s) could not be read"
    }

    /// One file decoded, described and recorded as inspected.
    private func inspect(_ path: String, run: RecordedRun, store: ProvenanceStore) throws -> Entry {
        let bytes = try ImageCodec.readBytes(path: path, options: decodeOptions)
        let decoded = try ImageCodec.decode(bytes: bytes, path: path, options: decodeOptions)
        let record = FileRecords.record(bytes: bytes, path: path, width: decoded.image.width,
                                        height: decoded.image.height, format: decoded.format.rawValue)
        try store.recordRunInput(runID: run.id, file: record, role: "inspected")
        let m = decoded.metadata
        return Entry(path: record.path, sha256: record.sha256, format: decoded.format.rawValue,
                     width: decoded.image.width, height: decoded.image.height,
                     description: decoded.sourceDescription, orientation: m.orientation,
                     hasEXIF: m.exif != nil, hasGPS: m.hasGPS || (m.xmp.map(ImageMetadata.xmpMentionsLocation) ?? false),
                     hasXMP: m.xmp != nil, hasICCProfile: m.iccProfile != nil, hasComment: m.comment != nil)
    }

    struct InspectParameters: Codable {
        var paths: [String]
        var maxPixels: Int
        var maxFileBytes: Int
    }
}

/// Text and JSON for `cloak inspect`.
public enum InspectionReport {
    public static func text(_ s: ImageInspection.Summary) -> String {
        var out = ""
        for e in s.entries {
            var flags: [String] = []
            if e.hasGPS { flags.append("GPS LOCATION") }
            if e.hasEXIF { flags.append("EXIF") }
            if e.hasXMP { flags.append("XMP") }
            if e.hasICCProfile { flags.append("ICC") }
            if e.hasComment { flags.append("comment") }
            if e.orientation != 1 { flags.append("orientation \(e.orientation)") }
            out += "\(e.path)  \(e.width)x\(e.height)  \(e.description)"
            out += flags.isEmpty ? "\n" : "  [\(flags.joined(separator: ", "))]\n"
        }
        let gps = s.entries.filter(\.hasGPS).count
        out += "\(s.entries.count) image(s) read, \(s.failures.count) failed"
        if gps > 0 { out += "; \(gps) carry a GPS location (Cloak's outputs never do unless asked)" }
        out += " (run \(s.runID)).\n"
        return out
    }

    public static func json(_ s: ImageInspection.Summary) throws -> String {
        try JSON.pretty(s) + "\n"
    }
}
