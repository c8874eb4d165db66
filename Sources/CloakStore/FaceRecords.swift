import Foundation
import GRDB

/// A row of `face`: one face of a photo cloaked by `cloak faces`, with what the cloak did to it.
///
/// Boxes are in the input's upright pixels (EXIF orientation applied), inclusive corners. Shifts are L2
/// distances between 128-D dlib descriptors (dlib's same-person threshold is 0.6).
public struct FaceRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "face"
    public var id: Int64?
    public var outputId: Int64
    public var faceIndex: Int
    public var boxLeft: Int
    public var boxTop: Int
    public var boxRight: Int
    public var boxBottom: Int
    public var embeddingShift: Double
    public var shiftAfterJPEG85: Double?
    public var shiftAfterJPEG75: Double?
    public var redetected: Bool
    public var targetDistance: Double?
    public var dssim: Double
    public var psnr: Double?
    public var linf: Int
    public var seconds: Double
    /// The perturbation of the face region made visible: |cloaked - original| x 10, as PNG bytes (at most
    /// 256 pixels on the longer side). SSIM alone is blind to colour blotches; this picture is not.
    public var differencePNG: Data?

    public init(id: Int64? = nil, outputId: Int64 = 0, faceIndex: Int, box: (left: Int, top: Int, right: Int, bottom: Int),
                embeddingShift: Double, shiftAfterJPEG85: Double? = nil, shiftAfterJPEG75: Double? = nil,
                redetected: Bool, targetDistance: Double? = nil, dssim: Double, psnr: Double?, linf: Int, seconds: Double, differencePNG: Data? = nil) {
        self.id = id
        self.outputId = outputId
        self.faceIndex = faceIndex
        (boxLeft, boxTop, boxRight, boxBottom) = box
        self.embeddingShift = embeddingShift
        self.shiftAfterJPEG85 = shiftAfterJPEG85
        self.shiftAfterJPEG75 = shiftAfterJPEG75
        self.redetected = redetected
        self.targetDistance = targetDistance
        self.dssim = dssim
        self.psnr = psnr.flatMap { $0.isFinite ? $0 : nil }
        self.linf = linf
        self.seconds = seconds
        self.differencePNG = differencePNG
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// An earlier output made from a given input content, as ``ProvenanceStore/outputs(fromInputSHA256:command:)``
/// finds it.
public struct EarlierOutput: Sendable, Equatable {
    public var runID: Int64
    public var path: String
    public var sha256: String
    /// The output's `details` JSON.
    public var details: String
}

extension ProvenanceStore {
    /// Records one output and its faces in one transaction. Recording the same output file again in the
    /// same run (a resumed run) replaces the output row and its faces.
    ///
    /// - Returns: the face rows with their ids.
    @discardableResult
    public func recordFaceOutput(runID: Int64, _ entry: OutputEntry, faces: [FaceRecord]) throws -> [FaceRecord] {
        try write { db in
            let input = try Self.upsert(entry.input, in: db)
            let output = try Self.upsert(entry.output, in: db)
            let outputID = try Int64.fetchOne(db, sql: """
                INSERT INTO output (runId, inputFileId, outputFileId, linf, l2, psnr, ssim, details, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (runId, outputFileId) DO UPDATE SET
                    inputFileId = excluded.inputFileId, linf = excluded.linf, l2 = excluded.l2,
                    psnr = excluded.psnr, ssim = excluded.ssim, details = excluded.details,
                    createdAt = excluded.createdAt
                RETURNING id
                """, arguments: [runID, input.id, output.id, entry.linf, entry.l2, entry.psnr, entry.ssim,
                                 entry.details, Date()])!
            try db.execute(sql: "DELETE FROM face WHERE outputId = ?", arguments: [outputID])
            try db.execute(sql: "DELETE FROM failure WHERE runId = ? AND path = ?", arguments: [runID, entry.input.path])
            return try faces.map { face in
                var face = face
                face.id = nil
                face.outputId = outputID
                try face.insert(db)
                return face
            }
        }
    }

    /// The faces recorded for an output, in face order.
    public func faces(outputID: Int64) throws -> [FaceRecord] {
        try read { db in
            try FaceRecord.filter(sql: "outputId = ?", arguments: [outputID]).order(sql: "faceIndex").fetchAll(db)
        }
    }

    /// Outputs that runs of `command` made from an input with this content, newest first.
    public func outputs(fromInputSHA256 sha256: String, command: String) throws -> [EarlierOutput] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT output.runId AS runId, outFile.path AS path, outFile.sha256 AS sha256, output.details AS details
                FROM output
                JOIN file AS inFile ON inFile.id = output.inputFileId
                JOIN file AS outFile ON outFile.id = output.outputFileId
                JOIN run ON run.id = output.runId
                WHERE inFile.sha256 = ? AND run.command = ?
                ORDER BY output.id DESC
                """, arguments: [sha256, command]).map {
                EarlierOutput(runID: $0["runId"], path: $0["path"], sha256: $0["sha256"], details: $0["details"])
            }
        }
    }
}
