import CloakSupport
import Foundation
import Testing

/// `cloak unlearnable`'s output as the tools users load it with see it, and its bytes pinned.
@Suite("cloak unlearnable output: PyTorch loads it, its bytes are pinned",
       .enabled(if: fashionMNISTInstalled, "needs dataset-fashion-mnist (make setup)"))
struct OutputEcosystemTests {
    /// A 2-class, 20-image Fashion-MNIST subset and the arguments of a small fixed-seed job on it.
    func smallJob(_ dir: String, mode: String, out: String) throws -> [String] {
        if !FileManager.default.fileExists(atPath: dir + "/two") {
            #expect(try CLI.run(["datasets", "import", "fashion-mnist", "--limit-per-class", "10", "--out", "fm", "--quiet"],
                                in: dir).status == 0)
            for name in ["Bag", "Trouser"] {
                try FileManager.default.createDirectory(atPath: dir + "/two", withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: "\(dir)/fm/train/\(name)", toPath: "\(dir)/two/\(name)")
            }
        }
        return ["unlearnable", "two", "--out", out, "--mode", mode, "--batch-size", "8", "--train-steps", "2",
                "--max-rounds", "2", "--stop-error", "0.99", "--seed", "3", "--quiet"]
    }

    /// torchvision's ImageFolder (Debian's python3-torchvision, installed by the test set-up) loads the output with
    /// exactly the input's classes and images: no state folder, checkpoint or optimiser file is published with it.
    @Test(.enabled(if: torchvisionInstalled, "needs python3-torchvision (make test installs it)"))
    func torchvisionImageFolderLoadsTheOutputWithTheInputsClasses() throws {
        let dir = try makeWorkFolder()
        let made = try CLI.run(try smallJob(dir, mode: "class", out: "cloaked"), in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let script = """
            import json, sys, numpy
            from torchvision.datasets import ImageFolder
            data = ImageFolder(sys.argv[1])
            noise = numpy.load(sys.argv[1] + "/noise.npy")
            print(json.dumps({"classes": data.classes, "count": len(data), "shape": list(data[0][0].size), "noise": list(noise.shape)}))
            """
        let loaded = try Python.run(script, arguments: [dir + "/cloaked"])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(loaded.stdout.utf8)) as! [String: Any]
        #expect(result["classes"] as? [String] == ["Bag", "Trouser"])
        #expect(result["count"] as? Int == 20 && result["shape"] as? [Int] == [28, 28])
        #expect(result["noise"] as? [Int] == [2, 1, 28, 28])
        let published = try FileManager.default.subpathsOfDirectory(atPath: dir + "/cloaked")
        #expect(published.filter { !$0.hasSuffix(".png") && !["Bag", "Trouser"].contains($0) }.sorted()
                == ["noise.json", "noise.npy", "unlearnable.json"], "\(published)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/Store/state").isEmpty, "the state is removed")
    }

    /// The same small job, with the same seed on one thread, writes the same bytes as it did when this test was
    /// written (before the redesign of issue 30): a change to the algorithm's numbers shows here.
    @Test(arguments: [("class", "b42328a2fd931276969ae3fea9d00057"), ("sample", "a65f694b126432f1e80549e3b9f7dbe2")])
    func aSmallJobsOutputIsPinned(_ mode: String, _ expected: String) throws {
        let dir = try makeWorkFolder()
        let made = try CLI.run(try smallJob(dir, mode: mode, out: "cloaked"), in: dir, environment: ["OMP_NUM_THREADS": "1"])
        #expect(made.status == 0, "\(made.stderr)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir + "/cloaked")
            .filter { $0.hasSuffix(".png") || $0 == "noise.npy" }.sorted()
        #expect(files.count == 21)
        let listing = try files.map { "\($0) \(try FileDigest.sha256(ofFileAt: dir + "/cloaked/" + $0))" }.joined(separator: "\n")
        let digest = String(FileDigest.sha256(Array(listing.utf8)).prefix(32))
        #expect(digest == expected, "the output of the pinned \(mode)-wise job changed:\n\(listing)")
    }
}

/// Whether Debian's python3-torchvision can be imported by /usr/bin/python3.
let torchvisionInstalled: Bool = (try? Python.run("import torchvision", arguments: []).status) == 0

/// Runs a Python script with Debian's /usr/bin/python3 (where python3-torchvision installs).
enum Python {
    static func run(_ script: String, arguments: [String]) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLI.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
    }
}
