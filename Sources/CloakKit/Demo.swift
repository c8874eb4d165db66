import CloakDatasetProtection
import CloakFace
import CloakStore
import CloakSupport
import Foundation

/// `cloak demo` (what `make demo` runs): shows what Cloak does on real data, end to end, in minutes.
///
/// 1. Imports Fashion-MNIST from Debian's package into `<datasets>/fashion-mnist` (a no-op when present).
/// 2. Makes a class-wise unlearnable copy of the first ``perClass`` training images of each class.
/// 3. Verifies it: trains SmallCNN on the cloaked copy and on the same clean images, tests both on the
///    clean test set, under no countermeasure and under JPEG quality 10; prints the summary and writes
///    the report.
/// 4. Cloaks the faces of the sample photos of one person (`cloak faces --mode high`) and checks them with a
///    tracker enrolled on the cloaked photos (`cloak verify faces`), another person's photo as the other identity.
/// 5. Lists the recorded runs.
///
/// Its timings and results are in `docs/measurements/demo.md`.
public struct Demo: Sendable {
    public var datasetsDirectory: String
    public var reportsDirectory: String
    public var quiet: Bool
    /// Training images per class used by the demo (the full set takes much longer). Fewer would be faster but
    /// show nothing: class-wise noise is a shortcut a model takes only when the content is harder to memorise
    /// than the pattern (at 500 and 1,000 per class the content wins; `docs/measurements/demo.md`).
    public var perClass = 2000
    /// Fraction of the demo's images that generate the class patterns (5,000 of 20,000: the generation costs
    /// what it costs on 5,000 images, the patterns then apply to all).
    public var subset = 0.25
    public var epochs = 2

    public init(datasetsDirectory: String = "Datasets", reportsDirectory: String = "reports", quiet: Bool = false) {
        self.datasetsDirectory = datasetsDirectory
        self.reportsDirectory = reportsDirectory
        self.quiet = quiet
    }

    /// Runs the demo, writing its report through `print`.
    public func run(store: ProvenanceStore, arguments: [String], print: (String) -> Void) throws {
        let started = Date()
        print("== 1. Import Fashion-MNIST (Debian's dataset-fashion-mnist) as a PNG ImageFolder tree")
        let imported = try DatasetImport(options: .init(outputDirectory: datasetsDirectory + "/fashion-mnist"), quiet: quiet)
            .run(store: store, arguments: arguments)
        print(DatasetImportReport.text(imported))

        let train = imported.outputDirectory + "/train", test = imported.outputDirectory + "/test"
        // Named by its size, so that the folder of an earlier demo (500 per class, another job) does not make
        // `cloak unlearnable` refuse this one; the settings of one size stay fixed.
        let cloaked = datasetsDirectory + "/fashion-mnist-unlearnable-demo-\(perClass)"
        print("\n== 2. Make the first \(perClass) training images of each class unlearnable (class-wise noise, eps 8/255)")
        print("   cloak unlearnable \(train) --out \(cloaked) --limit-per-class \(perClass) --subset \(subset)")
        var settings = UnlearnableSettings(mode: .class)
        settings.subset = subset
        let generated = try UnlearnableJob(trainFolder: train, outputFolder: cloaked, settings: settings,
                                           limitPerClass: perClass, quiet: quiet).run(store: store, arguments: arguments)
        print(UnlearnableReport.text(generated))

        print("\n== 3. Verify: train SmallCNN on the cloaked copy and on the same clean images; test on clean data")
        print("   cloak verify \(cloaked) --test \(test) --baseline \(train) --limit-per-class \(perClass) "
              + "--epochs \(epochs) --countermeasures none,jpeg10")
        var verify = VerifySettings()
        verify.epochs = epochs
        verify.limitPerClass = perClass
        verify.countermeasures = [.none, .jpeg10]
        let outcome = try Verifier(trainFolder: cloaked, testFolder: test, baselineFolder: train,
                                   reportFolder: reportsDirectory + "/demo", settings: verify, quiet: quiet)
            .run(store: store, arguments: arguments)
        print(VerificationReport.markdown(outcome.result))
        print("Report: \(outcome.reportFolder)/report.html")

        try faceDemo(store: store, arguments: arguments, print: print)

        print("\n== 5. What the provenance store recorded (cloak history)")
        print(String(HistoryReport.text(try store.recentRuns(limit: 10)).dropLast()))
        let bags = "\(cloaked)/Bag"
        if let first = (try? FileManager.default.contentsOfDirectory(atPath: bags))?.filter({ $0.hasSuffix(".png") }).sorted().first {
            print("Try: cloak show \(bags)/\(first)   (the full provenance of one cloaked image)")
        }
        print("Demo finished in \(ProgressReporter.duration(Date().timeIntervalSince(started))).")
    }
}

extension Demo {
    /// Step 4: face cloaks on the sample photos `make setup` fetched (skipped with a note when they are absent).
    func faceDemo(store: ProvenanceStore, arguments: [String], print: (String) -> Void) throws {
        let samples = datasetsDirectory + "/face-samples"
        let models = FaceModels.locate(explicit: nil)
        print("\n== 4. Cloak the faces in photos of one person, then try to recognise them with a tracker")
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: samples).sorted(),
              fm.fileExists(atPath: models + "/" + FaceEmbedder.fileName) else {
            print("   skipped: the sample photos or the face models are missing (run `make setup`)")
            return
        }
        let demo = datasetsDirectory + "/face-demo"
        let person = names.filter { $0.hasPrefix("obama") || $0 == "32bit.png" }
        for (folder, files) in [("me", person), ("others", names.filter { $0.hasPrefix("biden") })] {
            try fm.createDirectory(atPath: demo + "/" + folder, withIntermediateDirectories: true)
            for name in files where !fm.fileExists(atPath: demo + "/" + folder + "/" + name) {
                try fm.copyItem(atPath: samples + "/" + name, toPath: demo + "/" + folder + "/" + name)
            }
        }
        // The sample photos' faces are 200 px or more: detection on the doubled photos (the default, for faces
        // from 40 px) would find the same faces with 4 times the detector's work.
        print("   cloak faces \(demo)/me --out \(demo)/cloaked --mode high --upsample 0")
        var settings = FaceJobSettings()
        settings.mode = .high   // mid moves these faces past dlib's threshold, not past the other person (docs/measurements/faces.md)
        settings.upsample = 0
        settings.outputFolder = demo + "/cloaked"
        settings.modelsDirectory = models
        let cloaked = try FaceJob(paths: [demo + "/me"], settings: settings, quiet: quiet).run(store: store, arguments: arguments)
        print(FaceJobReport.markdown(cloaked))
        print("   cloak verify faces \(demo)/me \(demo)/cloaked --others \(demo)/others --upsample 0")
        var verification = FaceVerification(originals: demo + "/me", cloaked: demo + "/cloaked", others: demo + "/others",
                                            reportFolder: reportsDirectory + "/demo-faces", modelsDirectory: models, quiet: quiet)
        verification.upsample = 0
        let (result, folder) = try verification.run(store: store, arguments: arguments)
        print(FaceVerificationReport.markdown(result))
        print("Report: \(folder)/report.html")
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
        if s.removed > 0 { line += ", \(ProgressReporter.grouped(s.removed)) beyond the limit removed" }
        return line + ")."
    }
}
