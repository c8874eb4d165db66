import Foundation
import GRDB

/// A run as `cloak history` lists it.
public struct RunSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var command: String
    public var arguments: [String]
    public var status: RunStatus
    public var message: String?
    public var toolVersion: String
    public var seed: Int64?
    public var startedAt: Date
    public var finishedAt: Date?
    /// Seconds from start to finish; `nil` while running.
    public var durationSeconds: Double?
    public var filesOK: Int
    public var filesFailed: Int
    public var resumedCount: Int
}

/// One output with everything that made it: the run, its input, the models the run used.
public struct OutputProvenance: Codable, Sendable, Equatable {
    public var output: OutputRecord
    public var outputFile: FileRecord
    public var inputFile: FileRecord
    public var run: RunRecord
    public var models: [ModelUse]
    /// For photos cloaked by `cloak faces`: the faces, in order (empty otherwise).
    public var faces: [FaceRecord] = []
}

/// A model file a run used, and in which role.
public struct ModelUse: Codable, Sendable, Equatable {
    public var role: String
    public var model: ModelRecord
}

/// A run that read a file as a whole.
public struct RunInputUse: Codable, Sendable, Equatable {
    public var role: String
    public var run: RunRecord
}

/// Everything the store knows about one content hash.
public struct FileProvenance: Codable, Sendable, Equatable {
    public var sha256: String
    /// Every path this content was seen at.
    public var locations: [FileRecord]
    /// Outputs with this content: how the file was made.
    public var producedBy: [OutputProvenance]
    /// Outputs made from this content: what was made from the file.
    public var derivedOutputs: [OutputProvenance]
    /// Runs that read this file as a whole (data sets, archives).
    public var readBy: [RunInputUse]
    /// Failures recorded at any of the file's paths.
    public var failures: [FailureRecord]

    /// True when the store knows nothing about this content.
    public var isEmpty: Bool {
        locations.isEmpty && producedBy.isEmpty && derivedOutputs.isEmpty && readBy.isEmpty && failures.isEmpty
    }
}

extension ProvenanceStore {
    /// The most recent runs, newest first, with their file counts.
    public func recentRuns(limit: Int = 20) throws -> [RunSummary] {
        try read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT run.*,
                       (SELECT count(*) FROM output WHERE output.runId = run.id)
                         + (SELECT count(*) FROM runInput WHERE runInput.runId = run.id AND runInput.role = 'inspected') AS filesOK,
                       (SELECT count(*) FROM failure WHERE failure.runId = run.id) AS filesFailed
                FROM run ORDER BY run.id DESC LIMIT ?
                """, arguments: [limit])
            return try rows.map { row in
                let run = try RunRecord(row: row)
                return RunSummary(
                    id: run.id!, command: run.command, arguments: run.arguments, status: run.status,
                    message: run.message, toolVersion: run.toolVersion, seed: run.seed, startedAt: run.startedAt,
                    finishedAt: run.finishedAt, durationSeconds: run.finishedAt.map { $0.timeIntervalSince(run.startedAt) },
                    filesOK: row["filesOK"], filesFailed: row["filesFailed"], resumedCount: run.resumedCount)
            }
        }
    }

    /// The run with this id, if any.
    public func run(id: Int64) throws -> RunRecord? {
        try read { db in try RunRecord.fetchOne(db, key: id) }
    }

    /// Failures recorded for a run, in path order.
    public func failures(runID: Int64) throws -> [FailureRecord] {
        try read { db in
            try FailureRecord.filter(sql: "runId = ?", arguments: [runID]).order(sql: "path").fetchAll(db)
        }
    }

    /// Number of outputs recorded for a run.
    public func outputCount(runID: Int64) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM output WHERE runId = ?", arguments: [runID]) ?? 0 }
    }

    /// Output paths recorded for a run, sorted.
    public func outputPaths(runID: Int64) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT file.path FROM output JOIN file ON file.id = output.outputFileId
                WHERE output.runId = ? ORDER BY file.path
                """, arguments: [runID])
        }
    }

    /// Verifications recorded for a run, in insertion order.
    public func verifications(runID: Int64) throws -> [VerificationRecord] {
        try read { db in
            try VerificationRecord.filter(sql: "runId = ?", arguments: [runID]).order(sql: "id").fetchAll(db)
        }
    }

    /// Verifications, from any run, of models of `model` trained for `epochs` epochs under `countermeasure`
    /// on the data set with hash `trainDatasetSHA256` and tested on the one with hash `testDatasetSHA256`;
    /// newest first.
    public func verifications(trainDatasetSHA256: String, testDatasetSHA256: String, model: String, epochs: Int,
                              countermeasure: String) throws -> [VerificationRecord] {
        try read { db in
            try VerificationRecord.filter(sql: """
                trainDatasetSHA256 = ? AND testDatasetSHA256 = ? AND model = ? AND epochs = ? AND countermeasure = ?
                """, arguments: [trainDatasetSHA256, testDatasetSHA256, model, epochs, countermeasure])
                .order(sql: "id DESC").fetchAll(db)
        }
    }

    /// Everything the store knows about a file's content, found by its SHA-256 (so it works after the
    /// file was moved or renamed).
    public func provenance(sha256: String) throws -> FileProvenance {
        try read { db in
            let locations = try FileRecord.filter(sql: "sha256 = ?", arguments: [sha256]).order(sql: "id").fetchAll(db)
            let ids = locations.compactMap(\.id)
            let produced = try Self.outputs(in: db, where: "output.outputFileId IN (SELECT id FROM file WHERE sha256 = ?)", sha256)
            let derived = try Self.outputs(in: db, where: "output.inputFileId IN (SELECT id FROM file WHERE sha256 = ?)", sha256)
            var readBy: [RunInputUse] = []
            if !ids.isEmpty {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT runInput.role AS role, runInput.runId AS runId FROM runInput
                    WHERE runInput.fileId IN (SELECT id FROM file WHERE sha256 = ?) ORDER BY runInput.runId
                    """, arguments: [sha256])
                for row in rows {
                    if let run = try RunRecord.fetchOne(db, key: row["runId"] as Int64) {
                        readBy.append(RunInputUse(role: row["role"], run: run))
                    }
                }
            }
            let failures = try FailureRecord.filter(sql: "path IN (SELECT path FROM file WHERE sha256 = ?)", arguments: [sha256])
                .order(sql: "id").fetchAll(db)
            return FileProvenance(sha256: sha256, locations: locations, producedBy: produced, derivedOutputs: derived,
                                  readBy: readBy, failures: failures)
        }
    }

    private static func outputs(in db: Database, where condition: String, _ sha256: String) throws -> [OutputProvenance] {
        let outputs = try OutputRecord.filter(sql: condition, arguments: [sha256]).order(sql: "id").fetchAll(db)
        return try outputs.map { output in
            guard let outFile = try FileRecord.fetchOne(db, key: output.outputFileId),
                  let inFile = try FileRecord.fetchOne(db, key: output.inputFileId),
                  let run = try RunRecord.fetchOne(db, key: output.runID) else {
                throw StoreError.notFound(what: "rows referenced by output \(output.id ?? -1)")
            }
            let models = try Self.models(in: db, runID: output.runID)
            let faces = try FaceRecord.filter(sql: "outputId = ?", arguments: [output.id]).order(sql: "faceIndex").fetchAll(db)
            return OutputProvenance(output: output, outputFile: outFile, inputFile: inFile, run: run, models: models,
                                    faces: faces)
        }
    }

    /// The model files run `runID` used, with their roles (ordered by role, then name).
    public func models(runID: Int64) throws -> [ModelUse] {
        try read { db in try Self.models(in: db, runID: runID) }
    }

    private static func models(in db: Database, runID: Int64) throws -> [ModelUse] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT runModel.role AS role, model.* FROM runModel JOIN model ON model.id = runModel.modelId
            WHERE runModel.runId = ? ORDER BY runModel.role, model.name
            """, arguments: [runID])
        return try rows.map { ModelUse(role: $0["role"], model: try ModelRecord(row: $0)) }
    }
}
