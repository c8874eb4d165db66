import CloakSupport
import CloakData
import CloakImage
import Foundation
import Testing

@Suite("cloak datasets import, history and show", .enabled(if: fashionMNISTInstalled, "needs dataset-fashion-mnist (make setup)"))
struct DatasetImportTests {
    /// (split, index) -> label, read from the IDX files directly.
    static func idxLabels() throws -> [String: [UInt8]] {
        ["train": try FashionMNIST.load(.train).labels, "test": try FashionMNIST.load(.test).labels]
    }

    /// Checks every PNG under `root`: its class folder names the IDX label of the index in its name.
    static func checkLabels(root: String, labels: [String: [UInt8]]) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for split in ["train", "test"] {
            let folder = try ImageFolder(root: "\(root)/\(split)")
            for (path, _) in folder.samples {
                let className = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
                let index = Int((path as NSString).lastPathComponent.dropLast(4))!
                let expected = FashionMNIST.classNames[Int(labels[split]![index])]
                #expect(className == expected, "\(path) is in \(className), IDX says \(expected)")
            }
            counts[split] = folder.count
        }
        return counts
    }

    @Test func limitedImportHasRightLabelsPixelsAndProvenance() throws {
        let dir = try makeWorkFolder()
        let first = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "D/fm"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Imported 30 train + 30 test images"))
        let labels = try Self.idxLabels()
        #expect(try Self.checkLabels(root: dir + "/D/fm", labels: labels) == ["train": 30, "test": 30])

        // Pixels are the IDX pixels, bit for bit
        let test = try FashionMNIST.load(.test)
        let bag = try FileManager.default.contentsOfDirectory(atPath: dir + "/D/fm/test/Bag").sorted()[0]
        let index = Int(bag.dropLast(4))!
        let decoded = try ImageCodec.decode(path: dir + "/D/fm/test/Bag/" + bag)
        #expect(decoded.image == RGBImage(width: 28, height: 28, gray: Array(test.image(index))))

        // Importing again is a no-op that says so, and records no new run
        let again = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "D/fm"], in: dir)
        #expect(again.status == 0)
        #expect(again.stdout.contains("Already imported") && again.stdout.contains("nothing to do"))

        // history: one run, 60 files, done
        let history = try CLI.run(["history", "--json"], in: dir)
        let runs = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as! [[String: Any]]
        #expect(runs.count == 1)
        #expect(runs[0]["status"] as? String == "done")
        #expect(runs[0]["filesOK"] as? Int == 60 && runs[0]["filesFailed"] as? Int == 0)
        #expect(runs[0]["command"] as? String == "datasets import")
        let table = try CLI.run(["history"], in: dir).stdout
        #expect(table.hasPrefix("ID  COMMAND"))
        #expect(table.contains(" 1  cloak datasets import fashion-mnist --limit-per-class 3"))
        #expect(table.split(separator: "\n")[1].contains(" done "))

        // show finds the file by content, also after it is moved
        try FileManager.default.moveItem(atPath: dir + "/D/fm/test/Bag/" + bag, toPath: dir + "/moved.png")
        let shown = try CLI.run(["show", "moved.png"], in: dir)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("Made by run 1: datasets import, done"))
        #expect(shown.stdout.contains("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"))
        #expect(shown.stdout.contains("\"className\":\"Bag\""))
        let json = try CLI.run(["show", "moved.png", "--json"], in: dir)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let produced = object["producedBy"] as! [[String: Any]]
        #expect(produced.count == 1)
        #expect((produced[0]["inputFile"] as! [String: Any])["path"] as? String
                == "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")

        // The IDX source is known as read by the run
        let source = try CLI.run(["show", "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"], in: dir)
        #expect(source.stdout.contains("run 1 (datasets import, done) as test labels"))

        // A file the store never saw: exit status 1 and a plain statement
        #expect(FileManager.default.createFile(atPath: dir + "/other.txt", contents: Data("x".utf8)))
        let unknown = try CLI.run(["show", "other.txt"], in: dir)
        #expect(unknown.status == 1 && unknown.stdout.contains("knows nothing"))
    }

    @Test func fullImportWritesAll70000ImagesWithTheirIDXLabels() throws {
        let dir = try makeWorkFolder()
        let result = try CLI.run(["datasets", "import", "fashion-mnist", "--out", "fm", "--quiet"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "--quiet prints no progress")
        #expect(try Self.checkLabels(root: dir + "/fm", labels: Self.idxLabels()) == ["train": 60_000, "test": 10_000])
        let runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs[0]["filesOK"] as? Int == 70_000)
    }

    @Test func interruptedImportResumesAsTheSameRun() throws {
        let dir = try makeWorkFolder()
        let args = ["datasets", "import", "fashion-mnist", "--limit-per-class", "1500", "--out", "fm"]
        // Start an import and stop it with Ctrl-C once it has written some images
        let process = try CLI.start(args, in: dir)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let written = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/fm/train/Bag"))?.count ?? 0
            if written > 50 { break }
            usleep(20_000)
        }
        process.interrupt()
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        var runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.count == 1 && runs[0]["status"] as? String == "interrupted")
        #expect((runs[0]["message"] as? String)?.contains("re-run the same command") == true)

        // The same command resumes the run and completes it; nothing is recorded twice
        let resumed = try CLI.run(args + ["--quiet"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.count == 1)
        #expect(runs[0]["status"] as? String == "done" && runs[0]["resumedCount"] as? Int == 1)
        #expect(runs[0]["filesOK"] as? Int == 25_000)   // the test split has 1,000 per class
        #expect(try Self.checkLabels(root: dir + "/fm", labels: Self.idxLabels()) == ["train": 15_000, "test": 10_000])
    }

    @Test func killedImportShowsAsInterruptedAndResumes() throws {
        let dir = try makeWorkFolder()
        let args = ["datasets", "import", "fashion-mnist", "--limit-per-class", "400", "--out", "fm"]
        let process = try CLI.start(args, in: dir)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/fm/train/Bag"))?.count ?? 0) < 20 {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let runs = try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--json"], in: dir).stdout.utf8))
            as! [[String: Any]]
        #expect(runs.count == 1 && runs[0]["status"] as? String == "interrupted")
        let resumed = try CLI.run(args + ["--quiet"], in: dir)
        #expect(resumed.status == 0)
        #expect(try Self.checkLabels(root: dir + "/fm", labels: Self.idxLabels()) == ["train": 4_000, "test": 4_000])
        // A temporary file the kill left behind is cleaned up by the resumed run
        let leftovers = FileManager.default.enumerator(atPath: dir + "/fm")!.compactMap { $0 as? String }
            .filter { $0.contains(".cloak-tmp-") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    /// An import into an earlier import's folder with a lower limit leaves the folder holding what was asked for,
    /// and the next identical import is a no-op.
    @Test func aLowerLimitIntoTheSameFolderRemovesTheImagesBeyondIt() throws {
        let dir = try makeWorkFolder()
        let five = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "5", "--out", "fm", "--quiet"], in: dir)
        #expect(five.status == 0, "\(five.stderr)")
        let three = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "fm", "--quiet"], in: dir)
        #expect(three.status == 0, "\(three.stderr)")
        #expect(three.stdout.contains("40 beyond the limit removed"), "\(three.stdout)")
        #expect(try Self.checkLabels(root: dir + "/fm", labels: Self.idxLabels()) == ["train": 30, "test": 30])
        let again = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "fm"], in: dir)
        #expect(again.stdout.contains("Already imported"), "\(again.stdout)")
    }

    /// Split folders holding files no import made (another copy of the data, say) are refused before anything
    /// is written, and the files are left as they were.
    @Test func anOutputFolderHoldingOtherFilesIsRefusedAndLeftAlone() throws {
        let dir = try makeWorkFolder()
        try FileManager.default.createDirectory(atPath: dir + "/fm/train/Bag", withIntermediateDirectories: true)
        let theirs = Data("not an import".utf8)
        try theirs.write(to: URL(fileURLWithPath: dir + "/fm/train/Bag/00035.png"))
        let result = try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "3", "--out", "fm"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("/fm: its train/test folders hold files no import made (")
                && result.stderr.contains("/fm/train/Bag/00035.png"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/fm/train/Bag/00035.png") == theirs)
        #expect(FileManager.default.fileExists(atPath: dir + "/fm/test") == false, "nothing written")
    }
}
