import GRDB

/// The store's schema as an append-only list of migrations.
///
/// Rules: a migration is never edited once it has shipped; a change is a new migration appended at the
/// end. Migrations use table and column names as strings, never Swift types, so later code changes
/// cannot change what an old migration does. `Store/README.md` documents every table.
enum Schema {
    /// Identifiers of the migrations this version of Cloak knows, in order.
    static var knownMigrations: [String] { migrator.migrations }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-provenance") { db in
            // One row per invocation of a recording command.
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("command", .text).notNull()            // subcommand, e.g. "datasets import"
                t.column("commandLine", .text).notNull()        // JSON array of the process arguments
                t.column("toolVersion", .text).notNull()
                t.column("seed", .integer)
                t.column("parameters", .text).notNull().defaults(to: "{}")   // resolved parameters, JSON
                t.column("resumeKey", .text)                    // same key = same job; a re-run resumes it
                t.column("status", .text).notNull()
                    .check { ["running", "done", "failed", "interrupted"].contains($0) }
                t.column("message", .text)
                t.column("workingDirectory", .text).notNull()
                t.column("host", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("finishedAt", .datetime)
                t.column("resumedCount", .integer).notNull().defaults(to: 0)
            }
            try db.create(index: "run_resumeKey", on: "run", columns: ["resumeKey"])

            // A file's content at a path. The same content at two paths is two rows with one sha256.
            try db.create(table: "file") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sha256", .text).notNull()
                t.column("path", .text).notNull()               // absolute, as seen when recorded
                t.column("byteCount", .integer).notNull()
                t.column("width", .integer)
                t.column("height", .integer)
                t.column("format", .text)                       // "png", "jpeg", "idx", ...
                t.column("recordedAt", .datetime).notNull()
                t.uniqueKey(["sha256", "path"])
            }
            try db.create(index: "file_sha256", on: "file", columns: ["sha256"])

            // An output file written by a run from an input file, with the measured perturbation.
            try db.create(table: "output") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.belongsTo("inputFile", inTable: "file").notNull()
                t.belongsTo("outputFile", inTable: "file").notNull()
                t.column("linf", .double)                       // max |out - in|, 0-255 units
                t.column("l2", .double)                         // L2 norm of the difference, [0,1] units
                t.column("psnr", .double)                       // dB; NULL when identical
                t.column("ssim", .double)
                t.column("details", .text).notNull().defaults(to: "{}")   // protection-specific JSON
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "outputFileId"])
            }

            // A file a run could not process, with the reason; the batch went on.
            try db.create(table: "failure") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("path", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["runId", "path"])
            }

            // Model files (weights) by content hash, and which runs used them.
            try db.create(table: "model") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("byteCount", .integer)
                t.column("path", .text)
                t.uniqueKey(["name", "sha256"])
            }
            try db.create(table: "runModel") { t in
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.belongsTo("model").notNull()
                t.column("role", .text).notNull()
                t.primaryKey(["runId", "modelId", "role"])
            }

            // Files a run read that are not the input of one output (data sets, source archives, ...).
            try db.create(table: "runInput") { t in
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.belongsTo("file").notNull()
                t.column("role", .text).notNull()
                t.primaryKey(["runId", "fileId", "role"])
            }

            // A model trained on (possibly cloaked) data and tested on clean data.
            try db.create(table: "verification") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("run", onDelete: .cascade).notNull()
                t.column("trainDataset", .text).notNull()       // path as given
                t.column("trainDatasetSHA256", .text).notNull() // hash of the sorted (path, sha256) list
                t.column("testDataset", .text).notNull()
                t.column("testDatasetSHA256", .text).notNull()
                t.column("isBaseline", .boolean).notNull()      // trained on clean data
                t.column("model", .text).notNull()
                t.column("epochs", .integer).notNull()
                t.column("countermeasure", .text).notNull()
                t.column("accuracies", .text).notNull()         // JSON array, clean-test accuracy per epoch
                t.column("finalAccuracy", .double).notNull()
                t.column("bestAccuracy", .double).notNull()
                t.column("details", .text).notNull().defaults(to: "{}")
                t.column("createdAt", .datetime).notNull()
            }
        }
        // Per face of a cloaked photo (`cloak faces`): where it was and what the cloak did to it.
        migrator.registerMigration("v2-faces") { db in
            try db.create(table: "face") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("output", onDelete: .cascade).notNull()
                t.column("faceIndex", .integer).notNull()        // 0-based, in detection order
                t.column("boxLeft", .integer).notNull()          // detection box, upright input pixels, inclusive
                t.column("boxTop", .integer).notNull()
                t.column("boxRight", .integer).notNull()
                t.column("boxBottom", .integer).notNull()
                t.column("embeddingShift", .double).notNull()    // descriptor distance, original vs cloaked
                t.column("shiftAfterJPEG85", .double)            // the same after re-encoding as JPEG q85
                t.column("shiftAfterJPEG75", .double)
                t.column("redetected", .boolean).notNull()       // found again on the cloaked photo
                t.column("targetDistance", .double)              // targeted cloaks: distance to the target
                t.column("dssim", .double).notNull()             // RGB DSSIM of the perturbed face region
                t.column("psnr", .double)                        // dB over the face region; NULL when unchanged
                t.column("linf", .integer).notNull()             // 0-255 levels
                t.column("seconds", .double).notNull()           // optimisation time
                t.column("differencePNG", .blob)                 // |cloaked - original| x10 over the region, PNG
                t.uniqueKey(["outputId", "faceIndex"])
            }
        }
        return migrator
    }()
}
