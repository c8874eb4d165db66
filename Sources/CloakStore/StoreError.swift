import Foundation

/// Expected failures of the provenance store. Each message names the database file.
public enum StoreError: Error, LocalizedError, Equatable {
    /// The file exists but does not start with SQLite's header; it was not opened for writing.
    case notADatabase(path: String)
    /// The path is a folder: `--store` takes the database file (`<folder>/cloak.sqlite`, say).
    case isAFolder(path: String)
    /// The file is an SQLite database that Cloak did not create (it has tables but no Cloak migrations).
    case foreignDatabase(path: String)
    /// The database was migrated by a newer Cloak; this version does not know the listed migrations.
    case newerSchema(path: String, unknownMigrations: [String])
    /// SQLite failed; `message` is SQLite's own message.
    case sqlite(path: String, message: String)
    /// A lookup named a record that does not exist.
    case notFound(what: String)
    /// A command that only reads the store was pointed at a path where there is none.
    case noStore(path: String)
    /// Another process on this host is doing the same job (same resume key) right now.
    case runInProgress(path: String, runID: Int64, pid: Int64)

    public var errorDescription: String? {
        switch self {
        case .notADatabase(let path):
            return "\(path): not a Cloak store (not an SQLite database); the file was left untouched"
        case .isAFolder(let path):
            return "\(path): is a folder; the store is a file (try \(path)/cloak.sqlite)"
        case .foreignDatabase(let path):
            return "\(path): an SQLite database that Cloak did not create; the file was left untouched"
        case .newerSchema(let path, let unknown):
            return "\(path): the store was written by a newer Cloak (unknown migrations: "
                + unknown.sorted().joined(separator: ", ")
                + "); upgrade Cloak or use another `store`. The file was left untouched"
        case .sqlite(let path, let message):
            return "\(path): SQLite error: \(message)"
        case .notFound(let what):
            return "not found in the store: \(what)"
        case .runInProgress(let path, let runID, let pid):
            return "\(path): run \(runID) (process \(pid)) is doing this same job right now, with the same outputs; "
                + "wait for it to finish, or stop it (kill \(pid)) and run this again to resume it"
        case .noStore(let path):
            return "\(path): no provenance store here: nothing has been recorded at this path yet (`store` or "
                + "CLOAK_STORE chooses another)"
        }
    }
}
