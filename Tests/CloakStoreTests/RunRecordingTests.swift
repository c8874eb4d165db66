import CloakSupport
import Foundation
import GRDB
import Testing
@testable import CloakStore

private func file(_ name: String, _ content: String, width: Int? = 4, height: Int? = 4) -> FileRecord {
    FileRecord(sha256: FileDigest.sha256(Array(content.utf8)), path: "/data/" + name,
               byteCount: Int64(content.utf8.count), width: width, height: height, format: "png")
}

@Suite("Recording runs, outputs and failures")
struct RunRecordingTests {
    @Test func sha256MatchesKnownVector() {
        #expect(FileDigest.sha256(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func runWithOutputsAndFailuresShowsInHistory() throws {
        // Given an empty store
        let store = try ProvenanceStore()
        // When a run records two outputs and one failure and finishes
        let (run, resumed) = try store.beginRun(RunStart(
            command: "faces", arguments: ["cloak", "faces", "a.jpg"], toolVersion: "0.1.0", seed: 7,
            parameters: #"{"mode":"mid"}"#))
        #expect(!resumed)
        try store.recordOutputs(runID: run.id!, [
            OutputEntry(input: file("a.png", "a"), output: file("a.cloaked.png", "a'"), linf: 6, l2: 0.5, psnr: 44, ssim: 0.99),
            OutputEntry(input: file("b.png", "b"), output: file("b.cloaked.png", "b'"), linf: 5, psnr: .infinity),
        ])
        try store.recordFailure(runID: run.id!, path: "/data/c.jpg", reason: "/data/c.jpg: truncated JPEG")
        try store.finishRun(run.id!, status: .done)
        // Then history lists it with its counts, duration and arguments
        let summary = try #require(try store.recentRuns().first)
        #expect(summary.id == run.id)
        #expect(summary.filesOK == 2 && summary.filesFailed == 1)
        #expect(summary.status == .done)
        #expect(summary.arguments == ["cloak", "faces", "a.jpg"])
        #expect(summary.seed == 7)
        #expect(summary.durationSeconds != nil)
        // and an infinite PSNR (identical images) is stored as NULL, not as a bogus number
        let psnrs = try store.db.read { try Double?.fetchAll($0, sql: "SELECT psnr FROM output ORDER BY id") }
        #expect(psnrs == [44, nil])
    }

    @Test func resumedRunReusesTheRunAndNeverDuplicatesOutputs() throws {
        let store = try ProvenanceStore()
        let start = RunStart(command: "unlearnable", arguments: ["cloak", "unlearnable"], toolVersion: "0", resumeKey: "job-1")
        let (first, _) = try store.beginRun(start)
        try store.recordOutputs(runID: first.id!, [OutputEntry(input: file("a.png", "a"), output: file("a.out.png", "x"))])
        try store.recordFailure(runID: first.id!, path: "/data/a2.png", reason: "temporarily unreadable")
        try store.finishRun(first.id!, status: .interrupted, message: "killed")
        // When the same job is started again
        let (second, resumed) = try store.beginRun(start)
        // Then it is the same run, resumed, and re-recording outputs replaces instead of duplicating
        #expect(resumed && second.id == first.id && second.resumedCount == 1 && second.status == .running)
        try store.recordOutputs(runID: second.id!, [
            OutputEntry(input: file("a.png", "a"), output: file("a.out.png", "x"), linf: 3),
            OutputEntry(input: file("a2.png", "a2"), output: file("a2.out.png", "y")),
        ])
        try store.finishRun(second.id!, status: .done)
        #expect(try store.outputCount(runID: first.id!) == 2)
        #expect(try store.failures(runID: first.id!).isEmpty, "a file that succeeded on resume is no longer a failure")
        #expect(try store.recentRuns().count == 1)
        // A finished job is not resumed: the next start is a new run
        let (third, resumedAgain) = try store.beginRun(start)
        #expect(!resumedAgain && third.id != first.id)
    }

    @Test func provenanceIsFoundByContentHashFromBothSides() throws {
        let store = try ProvenanceStore()
        let (run, _) = try store.beginRun(RunStart(command: "faces", arguments: ["cloak"], toolVersion: "0.1.0", seed: 1))
        try store.recordModel(runID: run.id!, model: ModelRecord(name: "dlib_face_recognition_resnet_model_v1",
                                                                sha256: "55533b28", byteCount: 22_466_066), role: "embedder")
        let input = file("me.jpg", "me"), output = file("me.cloaked.jpg", "me-cloaked")
        try store.recordOutputs(runID: run.id!, [OutputEntry(input: input, output: output, linf: 6, details: #"{"faces":1}"#)])
        try store.finishRun(run.id!, status: .done)
        // The output's content, wherever it has moved, leads to its run, input and models
        let made = try store.provenance(sha256: output.sha256)
        #expect(made.producedBy.count == 1)
        #expect(made.producedBy[0].inputFile.path == "/data/me.jpg")
        #expect(made.producedBy[0].run.seed == 1)
        #expect(made.producedBy[0].models.map(\.role) == ["embedder"])
        #expect(made.producedBy[0].output.details == #"{"faces":1}"#)
        // The input's content leads to what was made from it
        let source = try store.provenance(sha256: input.sha256)
        #expect(source.derivedOutputs.map(\.outputFile.path) == ["/data/me.cloaked.jpg"])
        // Unknown content is empty
        #expect(try store.provenance(sha256: "0000").isEmpty)
    }

    @Test func theSameJobInAnotherLiveProcessIsRefused() throws {
        let store = try ProvenanceStore()
        let start = RunStart(command: "unlearnable", arguments: ["cloak"], toolVersion: "0", resumeKey: "job")
        let (run, _) = try store.beginRun(start)
        // pretend another process, still running (pid 1 always is), owns it
        try store.db.write { try $0.execute(sql: "UPDATE run SET pid = 1 WHERE id = ?", arguments: [run.id!]) }
        #expect(throws: StoreError.runInProgress(path: ":memory:", runID: run.id!, pid: 1)) { try store.beginRun(start) }
        // another job is not held up
        let (other, resumed) = try store.beginRun(RunStart(command: "unlearnable", arguments: ["cloak"], toolVersion: "0",
                                                           resumeKey: "another job"))
        #expect(!resumed && other.id != run.id)
        // once that process has gone, the same job resumes its run
        try store.db.write { try $0.execute(sql: "UPDATE run SET pid = 2147483000 WHERE id = ?", arguments: [run.id!]) }
        let (again, resumedNow) = try store.beginRun(start)
        #expect(resumedNow && again.id == run.id)
    }

    @Test func runOfADeadProcessIsMarkedInterruptedOnOpen() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/cloak.sqlite"
        do {
            let store = try ProvenanceStore(path: path)
            let (run, _) = try store.beginRun(RunStart(command: "x", arguments: [], toolVersion: "0"))
            // pretend another process, now gone, owned it
            try store.db.write { try $0.execute(sql: "UPDATE run SET pid = 2147483000 WHERE id = ?", arguments: [run.id!]) }
        }
        let store = try ProvenanceStore(path: path)
        let run = try #require(try store.recentRuns().first)
        #expect(run.status == .interrupted)
        #expect(run.message?.contains("resume") == true)
    }

    /// Right after `kill -9` the killed process is a zombie until its parent collects it; a re-run at that
    /// moment must still resume the killed run, so a zombie counts as ended.
    @Test func killedProcessNotYetCollectedCountsAsEnded() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("30"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0)
        #expect(ProvenanceStore.processIsAlive(pid))
        kill(pid, SIGKILL)
        var state: String? = ""
        for _ in 0..<200 {   // the kernel turns it into a zombie within milliseconds (nothing here collects it)
            state = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            if state == nil || state!.contains(") Z") { break }
            usleep(10_000)
        }
        #expect(state?.contains(") Z") != false, "neither a zombie nor gone: \(state ?? "")")
        #expect(kill(pid, 0) == 0 || state == nil, "kill(pid, 0) alone would call the zombie alive")
        #expect(!ProvenanceStore.processIsAlive(pid))
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(!ProvenanceStore.processIsAlive(pid))
    }

    @Test func runInputsAndVerificationsAreRecorded() throws {
        let store = try ProvenanceStore()
        let (run, _) = try store.beginRun(RunStart(command: "verify", arguments: [], toolVersion: "0"))
        let idx = file("train-images-idx3-ubyte.gz", "idx", width: nil, height: nil)
        try store.recordRunInput(runID: run.id!, file: idx, role: "images")
        try store.recordRunInput(runID: run.id!, file: idx, role: "images")   // idempotent
        try store.recordVerification(VerificationRecord(
            id: nil, runID: run.id!, trainDataset: "cloaked", trainDatasetSHA256: "aa", testDataset: "test",
            testDatasetSHA256: "bb", isBaseline: false, model: "small", epochs: 2, countermeasure: "none",
            accuracies: "[0.1,0.12]", finalAccuracy: 0.12, bestAccuracy: 0.12, details: "{}", createdAt: Date()))
        #expect(try store.provenance(sha256: idx.sha256).readBy.map(\.role) == ["images"])
        #expect(try store.verifications(runID: run.id!).map(\.finalAccuracy) == [0.12])
    }
}
