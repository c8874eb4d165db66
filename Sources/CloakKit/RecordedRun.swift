import CloakData
import CloakStore
import Dispatch
import Foundation

/// A run recorded in the provenance store for the lifetime of one command.
///
/// While a recorded run is open, SIGINT (Ctrl-C) and SIGTERM mark it `interrupted` in the store before
/// the process exits with status 130 / 143, so `cloak history` tells the truth and a re-run of the same
/// command resumes it. A run killed with SIGKILL is found and marked interrupted the next time a store is
/// opened (its process no longer exists).
public final class RecordedRun: Sendable {
    public let store: ProvenanceStore
    /// The run's row id.
    public let id: Int64
    /// True when this continues an unfinished run of the same job.
    public let resumed: Bool

    /// Starts (or resumes) a run and installs the interruption handler.
    public init(store: ProvenanceStore, start: RunStart) throws {
        let (run, resumed) = try store.beginRun(start)
        self.store = store
        self.id = run.id!
        self.resumed = resumed
        Interruption.shared.watch(self)
    }

    /// Marks the run done (or failed, with a message) and removes the interruption handler.
    public func finish(_ status: RunStatus = .done, message: String? = nil) throws {
        Interruption.shared.watch(nil)
        try store.finishRun(id, status: status, message: message)
    }

    /// Records that `path` could not be processed; the batch goes on.
    public func recordFailure(path: String, reason: String) {
        do {
            try store.recordFailure(runID: id, path: path, reason: reason)
        } catch {
            StandardError.print("warning: could not record the failure of \(path) in the store: \(error.localizedDescription)")
        }
    }

    /// Records the input files a job could not read and reports each on standard error with its path and
    /// reason (also under `--quiet`, which silences only progress); the batch goes on without them.
    public func recordUnreadable(_ failures: [WalkProblem]) {
        for failure in failures {
            recordFailure(path: failure.path, reason: failure.message)
            StandardError.print("error: \(failure.message)")
        }
    }

    /// Runs `body`; when it throws, marks the run failed with the error's message and rethrows.
    public func run<T>(_ body: (RecordedRun) throws -> T) throws -> T {
        do {
            let result = try body(self)
            return result
        } catch {
            if (try? store.run(id: id))??.status == .running {
                try? finish(.failed, message: error.localizedDescription)
            }
            throw error
        }
    }
}

/// Turns SIGINT and SIGTERM into an `interrupted` status for the open run.
final class Interruption: @unchecked Sendable {
    static let shared = Interruption()
    private let lock = NSLock()
    private var current: RecordedRun?
    private var sources: [DispatchSourceSignal] = []

    func watch(_ run: RecordedRun?) {
        lock.lock()
        defer { lock.unlock() }
        current = run
        if sources.isEmpty && run != nil { install() }
    }

    private func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.interrupted(by: sig) }
            source.resume()
            sources.append(source)
        }
    }

    private func interrupted(by sig: Int32) {
        lock.lock()
        let run = current
        lock.unlock()
        if let run {
            let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
            try? run.store.finishRun(run.id, status: .interrupted,
                                     message: "interrupted by \(name); re-run the same command to resume")
            StandardError.print("\ninterrupted: run \(run.id) recorded as interrupted; re-run the same command to resume")
        }
        // `_exit`, not `exit`: the job's threads (the main thread, oneDNN's OpenMP threads) are still working,
        // and `exit` would run C++ static destructors under them (measured: a segmentation fault in about one
        // SIGTERM in three). The run's row is committed; nothing else needs flushing but standard output.
        fflush(nil)
        _exit(128 + sig)
    }
}
