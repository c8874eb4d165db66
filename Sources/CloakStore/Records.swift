import Foundation
import GRDB

// One Codable struct per table (see Schema.swift for the columns and Store/README.md for their meaning).

/// Status of a run.
public enum RunStatus: String, Codable, Sendable, DatabaseValueConvertible {
    case running, done, failed, interrupted
}

/// A row of `run`: one invocation of a recording command.
public struct RunRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"
    public var id: Int64?
    public var command: String
    public var commandLine: String
    public var toolVersion: String
    public var seed: Int64?
    public var parameters: String
    public var resumeKey: String?
    public var status: RunStatus
    public var message: String?
    public var workingDirectory: String
    public var host: String
    public var pid: Int64
    public var startedAt: Date
    public var finishedAt: Date?
    public var resumedCount: Int

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The process arguments, decoded from `commandLine`.
    public var arguments: [String] {
        (try? JSONDecoder().decode([String].self, from: Data(commandLine.utf8))) ?? [commandLine]
    }
}

/// A row of `file`: a file's content (SHA-256) at a path.
public struct FileRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "file"
    public var id: Int64?
    public var sha256: String
    public var path: String
    public var byteCount: Int64
    public var width: Int?
    public var height: Int?
    public var format: String?
    public var recordedAt: Date

    public init(id: Int64? = nil, sha256: String, path: String, byteCount: Int64, width: Int? = nil,
                height: Int? = nil, format: String? = nil, recordedAt: Date = Date()) {
        self.id = id
        self.sha256 = sha256
        self.path = path
        self.byteCount = byteCount
        self.width = width
        self.height = height
        self.format = format
        self.recordedAt = recordedAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `output`: a file written by a run from an input file, with its measured perturbation.
public struct OutputRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "output"
    public var id: Int64?
    public var runID: Int64
    public var inputFileId: Int64
    public var outputFileId: Int64
    public var linf: Double?
    public var l2: Double?
    public var psnr: Double?
    public var ssim: Double?
    public var details: String
    public var createdAt: Date

    /// Swift names `runID`; the column is `runId`.
    enum CodingKeys: String, CodingKey {
        case id, runID = "runId", inputFileId, outputFileId, linf, l2, psnr, ssim, details, createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `failure`: an input a run could not process.
public struct FailureRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "failure"
    public var id: Int64?
    public var runID: Int64
    public var path: String
    public var reason: String
    public var createdAt: Date

    /// Swift names `runID`; the column is `runId`.
    enum CodingKeys: String, CodingKey { case id, runID = "runId", path, reason, createdAt }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `model`: a model file identified by name and content hash.
public struct ModelRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "model"
    public var id: Int64?
    public var name: String
    public var sha256: String
    public var byteCount: Int64?
    public var path: String?

    public init(id: Int64? = nil, name: String, sha256: String, byteCount: Int64? = nil, path: String? = nil) {
        self.id = id
        self.name = name
        self.sha256 = sha256
        self.byteCount = byteCount
        self.path = path
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `verification`: one model trained on one training set under one countermeasure.
public struct VerificationRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "verification"
    public var id: Int64?
    public var runID: Int64
    public var trainDataset: String
    public var trainDatasetSHA256: String
    public var testDataset: String
    public var testDatasetSHA256: String
    public var isBaseline: Bool
    public var model: String
    public var epochs: Int
    public var countermeasure: String
    public var accuracies: String
    public var finalAccuracy: Double
    public var bestAccuracy: Double
    public var details: String
    public var createdAt: Date

    /// Swift names `runID`; the column is `runId`.
    enum CodingKeys: String, CodingKey {
        case id, runID = "runId", trainDataset, trainDatasetSHA256, testDataset, testDatasetSHA256, isBaseline, model, epochs,
             countermeasure, accuracies, finalAccuracy, bestAccuracy, details, createdAt
    }

    public init(id: Int64? = nil, runID: Int64, trainDataset: String, trainDatasetSHA256: String, testDataset: String,
                testDatasetSHA256: String, isBaseline: Bool, model: String, epochs: Int, countermeasure: String,
                accuracies: String, finalAccuracy: Double, bestAccuracy: Double, details: String = "{}",
                createdAt: Date = Date()) {
        self.id = id
        self.runID = runID
        self.trainDataset = trainDataset
        self.trainDatasetSHA256 = trainDatasetSHA256
        self.testDataset = testDataset
        self.testDatasetSHA256 = testDatasetSHA256
        self.isBaseline = isBaseline
        self.model = model
        self.epochs = epochs
        self.countermeasure = countermeasure
        self.accuracies = accuracies
        self.finalAccuracy = finalAccuracy
        self.bestAccuracy = bestAccuracy
        self.details = details
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
