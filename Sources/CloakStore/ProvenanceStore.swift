import CloakSupport
import Foundation
import GRDB

/// The provenance store: every run, input, output, setting, seed, model hash and measured perturbation,
/// in one SQLite database (through GRDB).
///
/// Opening a store never modifies a file that is not a Cloak store: a file that is not SQLite, an SQLite
/// database with foreign tables, or a store migrated by a newer Cloak is refused with a ``StoreError``
/// before anything is written. A new or older store is migrated in order (``Schema``). The database runs
/// in WAL mode with foreign keys on, and every write method below is one transaction. Several commands can
/// use one store at once (a writer waits up to 30 s for another's transaction); opening and migrating is done
/// one process at a time, under a lock on the store's folder.
public final class ProvenanceStore: Sendable {
    /// Where the database lives (`":memory:"` for an in-memory store).
    public let path: String
    let db: DatabaseQueue

    /// Where jobs keep their resumable state (checkpoints, optimiser state) while they run: `state/` beside the
    /// database file, so it stays out of every published output; for an in-memory store, a new folder under the
    /// system's temporary folder. Jobs remove their state when they complete.
    public let stateDirectory: String

    /// The default location, relative to the working directory.
    public static let defaultRelativePath = "Store/cloak.sqlite"

    /// Resolves the store's location: an explicit `--store` path wins, then `CLOAK_STORE`, then
    /// `Store/cloak.sqlite` under the working directory.
    public static func resolvePath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                                   currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        if let explicit, !explicit.isEmpty { return absolutePath(explicit, relativeTo: currentDirectory) }
        if let env = environment["CLOAK_STORE"], !env.isEmpty { return absolutePath(env, relativeTo: currentDirectory) }
        return absolutePath(defaultRelativePath, relativeTo: currentDirectory)
    }

    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    ///
    /// - Throws: ``StoreError/notADatabase(path:)``, ``StoreError/isAFolder(path:)``, ``StoreError/foreignDatabase(path:)``,
    ///   ``StoreError/newerSchema(path:unknownMigrations:)`` (the file is left untouched), or
    ///   ``StoreError/sqlite(path:message:)``.
    public init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        stateDirectory = (folder.isEmpty ? "." : folder) + "/state"
        let fm = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && !fm.fileExists(atPath: path) {
            do {
                try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                let reason = fileInTheWay(of: parent).map { "\($0) is a file, not a folder" } ?? error.localizedDescription
                throw StoreError.sqlite(path: path, message: "cannot create folder \(parent): \(reason)")
            }
        }
        // Two commands started at once on a new or older store would both find it unmigrated (and race to
        // switch it to WAL and to create its tables): opening is one step at a time per folder, across processes.
        db = try Self.holdingLock(on: parent.isEmpty ? "." : parent) {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                if isDirectory.boolValue { throw StoreError.isAFolder(path: path) }
                try Self.checkExisting(path: path)
            }
            var config = Configuration()
            config.journalMode = .wal
            config.busyMode = .timeout(30)
            config.foreignKeysEnabled = true
            config.label = "CloakStore"
            do {
                let db = try DatabaseQueue(path: path, configuration: config)
                try Schema.migrator.migrate(db)
                return db
            } catch let error as DatabaseError {
                throw StoreError.sqlite(path: path, message: error.message ?? "\(error)")
            }
        }
        try markAbandonedRuns()
    }

    /// Runs `body` holding an exclusive `flock` on `folder`, waiting while another process holds it; runs it
    /// unlocked when the folder cannot be opened for reading.
    private static func holdingLock<T>(on folder: String, _ body: () throws -> T) throws -> T {
        let fd = open(folder, O_RDONLY)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }   // closing releases the lock
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return try body()
    }

    /// Opens an empty in-memory store (tests, dry runs).
    public init(inMemory: Void = ()) throws {
        path = ":memory:"
        stateDirectory = NSTemporaryDirectory() + "cloak-state-" + UUID().uuidString
        var config = Configuration()
        config.foreignKeysEnabled = true
        db = try DatabaseQueue(configuration: config)
        try Schema.migrator.migrate(db)
    }

    /// Identifiers of the migrations applied to this store, in order.
    public func appliedMigrations() throws -> [String] {
        try db.read { try Schema.migrator.appliedMigrations($0) }
    }

    /// Identifiers of every migration this version of Cloak knows, in order.
    public static var knownMigrations: [String] { Schema.knownMigrations }

    // MARK: - Checks before writing

    /// Refuses, without writing, a file that is not SQLite, not Cloak's, or from a newer Cloak.
    private static func checkExisting(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.sqlite(path: path, message: "cannot open the file for reading")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        if header.isEmpty { return }   // a zero-byte file is an empty database to SQLite
        guard header == Data("SQLite format 3\0".utf8) else { throw StoreError.notADatabase(path: path) }

        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)   // another process's connection may be checkpointing the WAL as it closes
        do {
            let reader = try DatabaseQueue(path: path, configuration: config)
            defer { try? reader.close() }
            try reader.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                if tables.isEmpty { return }
                guard tables.contains("grdb_migrations") else { throw StoreError.foreignDatabase(path: path) }
                let applied = try Schema.migrator.appliedIdentifiers(db)
                let unknown = applied.subtracting(Schema.knownMigrations)
                if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknownMigrations: Array(unknown)) }
            }
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_NOTADB { throw StoreError.notADatabase(path: path) }
            throw StoreError.sqlite(path: path, message: error.message ?? "\(error)")
        }
    }

    /// Marks as interrupted the runs on this host still marked running whose process no longer exists
    /// (killed, crashed, or machine restarted).
    private func markAbandonedRuns() throws {
        let host = ProcessInfo.processInfo.hostName
        try write { db in
            let running = try RunRecord.filter(sql: "status = 'running' AND host = ?", arguments: [host]).fetchAll(db)
            for var run in running where !Self.processIsAlive(Int32(truncatingIfNeeded: run.pid)) {
                run.status = .interrupted
                run.message = run.message ?? "the process ended without finishing (killed or crashed); re-run the same command to resume"
                try run.update(db)
            }
        }
    }

    /// Whether process `pid` on this host is still running. A zombie (killed, its exit not yet collected by
    /// its parent) counts as ended: right after `kill -9` the re-run must resume the killed run.
    static func processIsAlive(_ pid: Int32) -> Bool {
        if pid <= 0 { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        // /proc/<pid>/stat: "pid (command) state ..."; the command may hold spaces and parentheses.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    // MARK: - Transactions

    /// Runs `body` in one write transaction, mapping SQLite errors to ``StoreError``.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.write(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(path: path, message: error.message ?? "\(error)")
        }
    }

    /// Runs `body` in one read transaction, mapping SQLite errors to ``StoreError``.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read(body)
        } catch let error as DatabaseError {
            throw StoreError.sqlite(path: path, message: error.message ?? "\(error)")
        }
    }
}
