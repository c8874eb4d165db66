import CloakSupport
import CloakData
import CloakImage
import Foundation
import Testing

@Suite("cloak unlearnable and cloak verify", .enabled(if: fashionMNISTInstalled, "needs dataset-fashion-mnist (make setup)"))
struct UnlearnableCLITests {
    @Test func protectVerifyAndTraceASmallSubset() throws {
        let dir = try makeWorkFolder()
        #expect(try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "6", "--out", "fm", "--quiet"], in: dir).status == 0)

        // Protect: class-wise noise, a few quick rounds
        let made = try CLI.run(["unlearnable", "fm/train", "--out", "cloaked", "--batch-size", "20", "--train-steps", "3",
                                "--max-rounds", "3", "--stop-error", "0.9", "--seed", "5"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("Wrote 60 cloaked images"))
        #expect(made.stderr.contains("round 1: surrogate error"))
        let summary = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/cloaked/unlearnable.json")!)
            as! [String: Any]
        #expect(summary["written"] as? Int == 60)

        // Every written PNG decodes to within 8 levels of its input
        let inputs = try ImageFolder(root: dir + "/fm/train")
        for (path, _) in inputs.samples {
            let relative = String(path.dropFirst((dir + "/fm/train/").count))
            let original = try ImageCodec.decode(path: path).image
            let cloaked = try ImageCodec.decode(path: dir + "/cloaked/" + relative).image
            #expect(ImageMetrics.linf(original, cloaked) <= 8, "\(relative)")
            #expect(original.width == cloaked.width && original.height == cloaked.height)
        }
        let noise = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: dir + "/cloaked/noise.npy")!), path: "noise.npy")
        #expect(noise.shape == [10, 1, 28, 28])

        // Running it again is a no-op that says so
        let again = try CLI.run(["unlearnable", "fm/train", "--out", "cloaked", "--batch-size", "20", "--train-steps", "3",
                                 "--max-rounds", "3", "--stop-error", "0.9", "--seed", "5"], in: dir)
        #expect(again.stdout.contains("Already done"))

        // Verify against the clean images, under two countermeasures, checked 3 times in each 3-batch epoch
        let verified = try CLI.run(["verify", "cloaked", "--test", "fm/test", "--baseline", "fm/train", "--epochs", "2",
                                    "--countermeasures", "none,jpeg10", "--batch-size", "20", "--checks-per-epoch", "3",
                                    "--report", "report"], in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("| countermeasure | protected: final | protected: best epoch | protected: best check"))
        #expect(verified.stdout.contains("| none |") && verified.stdout.contains("| jpeg10 |"))
        let report = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/report/report.json")!)
            as! [String: Any]
        let rows = report["rows"] as! [[String: Any]]
        #expect(rows.map { $0["countermeasure"] as? String } == ["none", "jpeg10"])
        for row in rows {
            for curve in [row["protected"], row["baseline"]].map({ $0 as! [String: Any] }) {
                #expect((curve["accuracies"] as! [Double]).count == 2)
                let checks = curve["checkAccuracies"] as! [[Double]]
                #expect(checks.map(\.count) == [3, 3] && checks.map(\.last!) == curve["accuracies"] as! [Double])
                // The final model's confusion matrix on the 60 clean test images: 10 x 10, 6 per true class,
                // its diagonal matching the final accuracy
                let confusion = curve["finalConfusion"] as! [[Int]]
                #expect(confusion.count == 10 && confusion.allSatisfy { $0.count == 10 && $0.reduce(0, +) == 6 })
                let correct = (0..<10).reduce(0) { $0 + confusion[$1][$1] }
                #expect(abs(Double(correct) / 60 - (curve["accuracies"] as! [Double]).last!) < 1e-9)
            }
        }
        #expect(verified.stdout.contains("| class | none: protected | none: baseline | jpeg10: protected | jpeg10: baseline |"))
        let html = try String(contentsOfFile: dir + "/report/report.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("data:image/png;base64,"))

        // The store holds the three runs, and a cloaked file's provenance leads back to its input
        let runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.map { $0["command"] as? String } == ["verify", "unlearnable", "datasets import"])
        let bag = try FileManager.default.contentsOfDirectory(atPath: dir + "/cloaked/Bag").sorted()[0]
        let shown = try CLI.run(["show", "cloaked/Bag/" + bag], in: dir)
        #expect(shown.stdout.contains("Made by run 2: unlearnable, done"))
        #expect(shown.stdout.contains(dir + "/fm/train/Bag/" + bag))
        #expect(shown.stdout.contains("model       surrogate: surrogate-small"))

        // The clean images verified as if protected, with the same settings: the models run 3 trained on
        // them (its baselines) are reused, not trained again; --retrain trains them and gets the same curves
        let same = ["verify", "fm/train", "--test", "fm/test", "--baseline", "fm/train", "--epochs", "2",
                    "--countermeasures", "none,jpeg10", "--batch-size", "20", "--checks-per-epoch", "3"]
        let reused = try CLI.run(same + ["--report", "reused"], in: dir)
        #expect(reused.status == 0, "\(reused.stderr)")
        #expect(reused.stderr.contains("== none: the baseline model was trained by run 3 on the same data"))
        #expect(!reused.stderr.contains("training on"))
        #expect(reused.stdout.contains("Reused, not trained again: the protected model under `none` (run 3)"))
        let retrained = try CLI.run(same + ["--report", "retrained", "--retrain"], in: dir)
        #expect(retrained.stderr.contains("== none: training on the clean baseline") && !retrained.stdout.contains("Reused"))
        func curves(_ folder: String) throws -> [[Double]] {
            let json = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/\(folder)/report.json")!)
            return ((json as! [String: Any])["rows"] as! [[String: Any]]).flatMap { row in
                ["protected", "baseline"].map { ((row[$0] as! [String: Any])["accuracies"] as! [Double]) }
            }
        }
        #expect(try curves("reused") == curves("retrained"))
        let earlier = try curves("report"), now = try curves("reused")   // none: protected, baseline; jpeg10: the same
        #expect(now == [earlier[1], earlier[1], earlier[3], earlier[3]])
    }

    @Test func unreadableImagesAreReportedLeftOutAndTheRestProtected() throws {
        let dir = try makeWorkFolder()
        #expect(try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "fm", "--quiet"], in: dir).status == 0)
        let fm = FileManager.default
        let good = try fm.contentsOfDirectory(atPath: dir + "/fm/train/Bag").sorted()[0]
        let bytes = fm.contents(atPath: dir + "/fm/train/Bag/" + good)!
        #expect(fm.createFile(atPath: dir + "/fm/train/Bag/truncated.png", contents: bytes.prefix(bytes.count / 2)))
        #expect(fm.createFile(atPath: dir + "/fm/test/Coat/garbage.png", contents: Data("not an image".utf8)))

        // --quiet silences progress, not the errors; the 30 good images are cloaked; the exit status says one failed
        let made = try CLI.run(["unlearnable", "fm/train", "--out", "cloaked", "--batch-size", "10", "--train-steps", "2",
                                "--max-rounds", "1", "--stop-error", "0.9", "--quiet"], in: dir)
        #expect(made.status == 1, "\(made.stderr)")
        #expect(made.stderr.contains("error: \(dir)/fm/train/Bag/truncated.png: truncated"), "\(made.stderr)")
        #expect(!made.stderr.contains("round 1"))
        #expect(made.stdout.contains("Wrote 30 cloaked images") && made.stdout.contains("1 file(s) failed"))
        #expect(!fm.fileExists(atPath: dir + "/cloaked/Bag/truncated.png"))
        #expect(fm.contents(atPath: dir + "/fm/train/Bag/truncated.png") == bytes.prefix(bytes.count / 2))

        // verify leaves the unreadable test image out, says so in the summary and the report (once, though the folder is
        // also the baseline), and exits with 1
        let verified = try CLI.run(["verify", "cloaked", "--test", "fm/test", "--baseline", "fm/test", "--epochs", "1",
                                    "--batch-size", "10", "--report", "report", "--quiet"], in: dir)
        #expect(verified.status == 1, "\(verified.stderr)")
        #expect(verified.stderr.contains("error: \(dir)/fm/test/Coat/garbage.png: not a PNG or JPEG"))
        #expect(verified.stdout.contains("1 input file(s) could not be read and were left out:\n- \(dir)/fm/test/Coat/garbage.png: "))
        #expect(verified.stdout.contains("on 30 training images, tested on 30 clean images"))
        // one epoch on 30 images leaves the baseline near chance: no verdict is given on it
        #expect(verified.stdout.contains("| inconclusive |") && verified.stdout.contains("**Inconclusive** under `none`"),
                "\(verified.stdout)")
        let report = try JSONSerialization.jsonObject(with: fm.contents(atPath: dir + "/report/report.json")!) as! [String: Any]
        #expect((report["unreadableFiles"] as? [String])?.count == 1)
        let html = try String(contentsOfFile: dir + "/report/report.html", encoding: .utf8)
        #expect(html.contains("1 input file(s) could not be read") && html.contains("<li>\(dir)/fm/test/Coat/garbage.png: "))
        let runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.map { $0["filesFailed"] as? Int } == [1, 1, 0])
    }

    @Test func classWiseNoiseMadeEarlierIsAppliedToMoreImagesOfTheSameClasses() throws {
        let dir = try makeWorkFolder()
        #expect(try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "4", "--out", "fm", "--quiet"], in: dir).status == 0)
        let fm = FileManager.default
        let made = try CLI.run(["unlearnable", "fm/train", "--out", "first", "--limit-per-class", "2", "--batch-size", "10",
                                "--train-steps", "2", "--max-rounds", "2", "--stop-error", "0.9", "--quiet"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")

        // All 4 images per class, two classes left out: the same patterns as before
        try fm.removeItem(atPath: dir + "/fm/train/Bag")
        try fm.removeItem(atPath: dir + "/fm/train/Coat")
        let applied = try CLI.run(["unlearnable", "fm/train", "--out", "more", "--noise-from", "first", "--quiet"], in: dir)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("Applied the class-wise noise of \(dir)/first (eps 8/255, 28x28x1) to 32 images"))
        #expect(fm.contents(atPath: dir + "/more/noise.npy") == fm.contents(atPath: dir + "/first/noise.npy"))
        let before = try ImageFolder(root: dir + "/first")
        #expect(before.samples.count == 20)
        for (path, _) in before.samples where !path.contains("/Bag/") && !path.contains("/Coat/") {
            let relative = String(path.dropFirst((dir + "/first/").count))
            #expect(fm.contents(atPath: path) == fm.contents(atPath: dir + "/more/" + relative), "\(relative): the same output as before")
        }
        for (path, _) in try ImageFolder(root: dir + "/fm/train").samples {
            let relative = String(path.dropFirst((dir + "/fm/train/").count))
            let original = try ImageCodec.decode(path: path).image
            #expect(ImageMetrics.linf(original, try ImageCodec.decode(path: dir + "/more/" + relative).image) <= 8)
        }
        let runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.first?["filesOK"] as? Int == 32)

        // A class the noise has no pattern for, and sample-wise noise, are refused with the reason
        try fm.createDirectory(atPath: dir + "/fm/train/Umbrella", withIntermediateDirectories: true)
        try fm.copyItem(atPath: dir + "/first/Dress/" + (try fm.contentsOfDirectory(atPath: dir + "/first/Dress").sorted()[0]),
                        toPath: dir + "/fm/train/Umbrella/1.png")
        let unknown = try CLI.run(["unlearnable", "fm/train", "--out", "other", "--noise-from", "first"], in: dir)
        #expect(unknown.status != 0 && unknown.stderr.contains("Umbrella: no noise pattern for this class"), "\(unknown.stderr)")
        let sample = try CLI.run(["unlearnable", "fm/train", "--out", "other", "--noise-from", "first", "--mode", "sample"], in: dir)
        #expect(sample.status != 0 && sample.stderr.contains("--noise-from applies class-wise noise"))
        let poison = try CLI.run(["unlearnable", "fm/train", "--out", "other", "--noise-from", "first", "--targeted-poison"], in: dir)
        #expect(poison.status != 0 && poison.stderr.contains("it cannot be applied with --noise-from"), "\(poison.stderr)")
        let removed = try CLI.run(["unlearnable", "fm/train", "--out", "other", "--decoy-class", "Bag"], in: dir)
        #expect(removed.status != 0 && removed.stderr.contains("Unknown option '--decoy-class'"), "an experiment is not an option")
        let two = try CLI.run(["unlearnable", "fm/train", "--out", "other", "--noise-from", "first", "--noise-from", "first"], in: dir)
        #expect(two.status != 0, "one --noise-from folder")
    }

    /// `--countermeasures all` runs every countermeasure that means something for the data (grey images: not
    /// grayscale) and heads the summary with the worst case, named.
    @Test func everyCountermeasureAndTheWorstCase() throws {
        let dir = try makeWorkFolder()
        #expect(try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "fm", "--quiet"], in: dir).status == 0)
        let verified = try CLI.run(["verify", "fm/train", "--test", "fm/test", "--baseline", "fm/train", "--epochs", "1",
                                    "--batch-size", "10", "--adversarial-steps", "1", "--countermeasures", "all",
                                    "--report", "report", "--quiet"], in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        for name in ["none", "jpeg10", "augment", "adversarial", "median", "bitdepth"] {
            #expect(verified.stdout.contains("| \(name) |"), "\(name) missing:\n\(verified.stdout)")
        }
        #expect(!verified.stdout.contains("| grayscale |") && verified.stdout.contains("grayscale"), "grey data: said, not run")
        #expect(verified.stdout.contains("**Worst case of the 6 countermeasures run: `"), "\(verified.stdout)")
        let report = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/report/report.json")!)
            as! [String: Any]
        let worst = report["worstCase"] as? [String: Any]
        let rows = report["rows"] as! [[String: Any]]
        let best = rows.map { (($0["protected"] as! [String: Any])["accuracies"] as! [Double]).max()! }.max()!
        #expect(worst?["protectedAccuracy"] as? Double == best)
    }

    @Test func badSettingsAreRefusedBeforeAnyWork() throws {
        let dir = try makeWorkFolder()
        let result = try CLI.run(["unlearnable", "nowhere", "--out", "x", "--epsilon", "0"], in: dir)
        #expect(result.status != 0 && result.stderr.contains("--epsilon"))
        let verify = try CLI.run(["verify", "a", "--test", "b", "--countermeasures", "blur"], in: dir)
        #expect(verify.status != 0 && verify.stderr.contains("unknown countermeasure 'blur'"))
        let checks = try CLI.run(["verify", "a", "--test", "b", "--checks-per-epoch", "0"], in: dir)
        #expect(checks.status != 0 && checks.stderr.contains("--checks-per-epoch must be at least 1"))
        let mix = try CLI.run(["verify", "a", "--test", "b", "--clean-fraction", "0.2"], in: dir)
        #expect(mix.status != 0 && mix.stderr.contains("--clean-fraction needs --baseline"))
        let whole = try CLI.run(["verify", "a", "--test", "b", "--baseline", "c", "--clean-fraction", "1"], in: dir)
        #expect(whole.status != 0 && whole.stderr.contains("--clean-fraction must be in [0, 1)"))
    }
}
