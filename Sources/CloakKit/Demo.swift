import CloakStore
import Foundation

/// `cloak demo` (what `make demo` runs): shows what Cloak can do on real data, end to end.
///
/// Today: imports Fashion-MNIST from Debian's package into `Datasets/fashion-mnist` (a no-op when it is
/// already there) and lists the recorded runs. Later issues add the unlearnable-data and face-cloak steps.
public struct Demo: Sendable {
    public var datasetsDirectory: String
    public var quiet: Bool

    public init(datasetsDirectory: String = "Datasets", quiet: Bool = false) {
        self.datasetsDirectory = datasetsDirectory
        self.quiet = quiet
    }

    /// Runs the demo, writing its report through `print`.
    public func run(store: ProvenanceStore, arguments: [String], print: (String) -> Void) throws {
        print("== 1. Import Fashion-MNIST (Debian's dataset-fashion-mnist) as a PNG ImageFolder tree")
        let summary = try DatasetImport(options: .init(outputDirectory: datasetsDirectory + "/fashion-mnist"), quiet: quiet)
            .run(store: store, arguments: arguments)
        print(DatasetImportReport.text(summary))
        print("== 2. What the provenance store recorded (cloak history)")
        print(String(HistoryReport.text(try store.recentRuns(limit: 10)).dropLast()))
        let bags = "\(summary.outputDirectory)/test/Bag"
        if let first = (try? FileManager.default.contentsOfDirectory(atPath: bags))?.sorted().first {
            print("Try: cloak show \(bags)/\(first)   (the full provenance of one image)")
        }
    }
}

/// Text summaries of a data set import.
public enum DatasetImportReport {
    public static func text(_ s: DatasetImport.Summary) -> String {
        let counts = s.counts.keys.sorted(by: >).map { "\(ProgressReporter.grouped(s.counts[$0]!)) \($0)" }
            .joined(separator: " + ")
        if s.alreadyImported {
            return "Already imported: \(s.outputDirectory) holds \(counts) images from run \(s.runID ?? 0); nothing to do."
        }
        var line = "Imported \(counts) images into \(s.outputDirectory) in \(ProgressReporter.duration(s.seconds))"
        line += " (run \(s.runID ?? 0); \(ProgressReporter.grouped(s.written)) written"
        if s.unchanged > 0 { line += ", \(ProgressReporter.grouped(s.unchanged)) already in place" }
        return line + ")."
    }
}
