import Foundation
import GRDB

/// What a command tells the store when it starts a run.
public struct RunStart: Sendable {
    /// The subcommand, e.g. `"datasets import"`.
    public var command: String
    /// The full process arguments (argv), recorded as given.
    public var arguments: [String]
    public var toolVersion: String
    public var seed: Int64?
    /// Every resolved parameter (defaults included) as a JSON object.
    public var parameters: String
    /// Runs with the same key are the same job: a re-run after an interruption resumes the unfinished
    /// run instead of starting a second one. `nil` for commands that are not resumable.
    public var resumeKey: String?

    public init(command: String, arguments: [String], toolVersion: String, seed: Int64? = nil,
                parameters: String = "{}", resumeKey: String? = nil) {
        self.command = command
        self.arguments = arguments
        self.toolVersion = toolVersion
        self.seed = seed
        self.parameters = parameters
        self.resumeKey = resumeKey
    }
}

/// One output with its input and measured perturbation, for ``ProvenanceStore/recordOutputs(runID:_:)``.
public struct OutputEntry: Sendable {
    public var input: FileRecord
    public var output: FileRecord
    public var linf: Double?
    public var l2: Double?
    public var psnr: Double?
    public var ssim: Double?
    /// Protection-specific measurements as a JSON object.
    public var details: String

    public init(input: FileRecord, output: FileRecord, linf: Double? = nil, l2: Double? = nil,
                psnr: Double? = nil, ssim: Double? = nil, details: String = "{}") {
        self.input = input
        self.output = output
        self.linf = linf
        self.l2 = l2
        self.psnr = psnr.flatMap { $0.isFinite ? $0 : nil }
        self.ssim = ssim
        self.details = details
    }
}

extension ProvenanceStore {
    // MARK: - Runs

    /// Starts a run, or resumes the unfinished run with the same ``RunStart/resumeKey``.
    ///
    /// - Returns: the run's row and whether it was resumed.
    /// - Throws: ``StoreError/runInProgress(path:runID:pid:)`` when another live process on this host is doing
    ///   the same job (same key) right now: both would write the same outputs and saved state.
    public func beginRun(_ start: RunStart) throws -> (run: RunRecord, resumed: Bool) {
        let argv = String(decoding: (try? JSONEncoder().encode(start.arguments)) ?? Data("[]".utf8), as: UTF8.self)
        return try write { db in
            if let key = start.resumeKey,
               var previous = try RunRecord
                .filter(sql: "resumeKey = ? AND status IN ('running', 'interrupted', 'failed')", arguments: [key])
                .order(sql: "id DESC").fetchOne(db) {
                if Self.isOtherLiveProcess(previous) {
                    throw StoreError.runInProgress(path: path, runID: previous.id ?? 0, pid: previous.pid)
                }
                previous.status = .running
                previous.message = nil
                previous.finishedAt = nil
                previous.pid = Int64(getpid())
                previous.resumedCount += 1
                try previous.update(db)
                return (previous, true)
            }
            var run = RunRecord(
                id: nil, command: start.command, commandLine: argv, toolVersion: start.toolVersion,
                seed: start.seed, parameters: start.parameters, resumeKey: start.resumeKey, status: .running,
                message: nil, workingDirectory: FileManager.default.currentDirectoryPath,
                host: ProcessInfo.processInfo.hostName, pid: Int64(getpid()), startedAt: Date(),
                finishedAt: nil, resumedCount: 0)
            try run.insert(db)
            return (run, false)
        }
    }

    private static func isOtherLiveProcess(_ run: RunRecord) -> Bool {
        guard run.status == .running, run.host == ProcessInfo.processInfo.hostName else { return false }
        let pid = Int32(truncatingIfNeeded: run.pid)
        return pid != getpid() && processIsAlive(pid)
    }

    /// Ends a run with its final status and an optional message (the error for a failed run).
    public func finishRun(_ runID: Int64, status: RunStatus, message: String? = nil) throws {
        precondition(status != .running, "finishRun needs a final status")
        try write { db in
            try db.execute(sql: "UPDATE run SET status = ?, message = ?, finishedAt = ? WHERE id = ?",
                           arguments: [status.rawValue, message, Date(), runID])
        }
    }

    // MARK: - Files and outputs

    /// Records a file (content hash at a path), or refreshes the existing row.
    ///
    /// - Returns: the record with its `id` set.
    @discardableResult
    public func recordFile(_ file: FileRecord) throws -> FileRecord {
        try write { db in try Self.upsert(file, in: db) }
    }

    static func upsert(_ file: FileRecord, in db: Database) throws -> FileRecord {
        var file = file
        let id = try Int64.fetchOne(db, sql: """
            INSERT INTO file (sha256, path, byteCount, width, height, format, recordedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (sha256, path) DO UPDATE SET
                width = coalesce(excluded.width, width),
                height = coalesce(excluded.height, height),
                format = coalesce(excluded.format, format)
            RETURNING id
            """, arguments: [file.sha256, file.path, file.byteCount, file.width, file.height, file.format, file.recordedAt])
        file.id = id
        return file
    }

    /// Records outputs of a run in one transaction. Recording the same output file twice for one run
    /// (a resumed run) replaces the earlier row, so a run never lists an output twice.
    public func recordOutputs(runID: Int64, _ entries: [OutputEntry]) throws {
        if entries.isEmpty { return }
        try write { db in
            let now = Date()
            for entry in entries {
                let input = try Self.upsert(entry.input, in: db)
                let output = try Self.upsert(entry.output, in: db)
                try db.execute(sql: """
                    INSERT INTO output (runId, inputFileId, outputFileId, linf, l2, psnr, ssim, details, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (runId, outputFileId) DO UPDATE SET
                        inputFileId = excluded.inputFileId, linf = excluded.linf, l2 = excluded.l2,
                        psnr = excluded.psnr, ssim = excluded.ssim, details = excluded.details,
                        createdAt = excluded.createdAt
                    """, arguments: [runID, input.id, output.id, entry.linf, entry.l2, entry.psnr, entry.ssim,
                                     entry.details, now])
            }
            // A file that now succeeded is no longer a failure of this run.
            for entry in entries {
                try db.execute(sql: "DELETE FROM failure WHERE runId = ? AND path = ?",
                               arguments: [runID, entry.input.path])
            }
        }
    }

    /// Records that a run could not process `path`, and why. A second failure of the same path in the
    /// same run (a resumed run) replaces the first.
    public func recordFailure(runID: Int64, path: String, reason: String) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO failure (runId, path, reason, createdAt) VALUES (?, ?, ?, ?)
                ON CONFLICT (runId, path) DO UPDATE SET reason = excluded.reason, createdAt = excluded.createdAt
                """, arguments: [runID, path, reason, Date()])
        }
    }

    /// Records a file a run read as a whole (a data set archive, a training folder's listing, ...).
    public func recordRunInput(runID: Int64, file: FileRecord, role: String) throws {
        try write { db in
            let file = try Self.upsert(file, in: db)
            try db.execute(sql: "INSERT OR IGNORE INTO runInput (runId, fileId, role) VALUES (?, ?, ?)",
                           arguments: [runID, file.id, role])
        }
    }

    /// Records that a run used a model file (weights) in a role such as `"surrogate"` or `"embedder"`.
    public func recordModel(runID: Int64, model: ModelRecord, role: String) throws {
        try write { db in
            let id = try Int64.fetchOne(db, sql: """
                INSERT INTO model (name, sha256, byteCount, path) VALUES (?, ?, ?, ?)
                ON CONFLICT (name, sha256) DO UPDATE SET path = coalesce(excluded.path, path)
                RETURNING id
                """, arguments: [model.name, model.sha256, model.byteCount, model.path])
            try db.execute(sql: "INSERT OR IGNORE INTO runModel (runId, modelId, role) VALUES (?, ?, ?)",
                           arguments: [runID, id, role])
        }
    }

    /// Records one verification result.
    @discardableResult
    public func recordVerification(_ verification: VerificationRecord) throws -> VerificationRecord {
        try write { db in
            var v = verification
            try v.insert(db)
            return v
        }
    }

    /// Replaces the `details` JSON of a recorded verification (its verdict is known only once the
    /// baseline model has trained too).
    public func updateVerificationDetails(id: Int64, details: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE verification SET details = ? WHERE id = ?", arguments: [details, id])
        }
    }

    /// Removes verifications of a resumed run that no longer apply (their data changed since).
    public func deleteVerifications(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try write { db in
            _ = try VerificationRecord.deleteAll(db, keys: ids)
        }
    }
}
