import CloakTestSupport
import Foundation
import GRDB
import Testing
@testable import CloakStore

/// A fresh temporary folder per test.
func makeTemporaryDirectory() throws -> String {
    try TestFolders.make("store")
}

@Suite("Opening and migrating stores")
struct StoreOpeningTests {
    @Test func freshStoreIsMigratedInWALModeWithForeignKeys() throws {
        // Given a path where no store exists (its folder does not exist either)
        let dir = try makeTemporaryDirectory()
        let path = dir + "/Store/cloak.sqlite"
        // When the store is opened
        let store = try ProvenanceStore(path: path)
        // Then every known migration is applied, in order, and the database is in WAL mode with foreign keys
        #expect(try store.appliedMigrations() == ProvenanceStore.knownMigrations)
        let mode = try store.db.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let fk = try store.db.read { try Int.fetchOne($0, sql: "PRAGMA foreign_keys") }
        #expect(fk == 1)
        #expect(throws: StoreError.self) {
            try store.recordFailure(runID: 12345, path: "/nowhere.png", reason: "no such run")
        }
    }

    /// Two `cloak` commands started at once on a new store (one connection each here) both open it: the one
    /// whose migration loses the race sees the other's tables and goes on.
    @Test func storesOpenedAtTheSameTimeOnANewPathAllOpen() throws {
        let dir = try makeTemporaryDirectory()
        for attempt in 0..<8 {
            let path = dir + "/cloak-\(attempt).sqlite"
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                var step = "open"
                do {
                    let store = try ProvenanceStore(path: path)
                    step = "begin a run"
                    _ = try store.beginRun(RunStart(command: "test", arguments: ["cloak", "test"], toolVersion: "0"))
                } catch {
                    failures.add("\(step): \(error)")
                }
            }
            #expect(failures.all.isEmpty, "attempt \(attempt): \(failures.all)")
            #expect(try ProvenanceStore(path: path).appliedMigrations() == ProvenanceStore.knownMigrations)
        }
    }

    @Test func existingStoreReopensWithItsData() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/cloak.sqlite"
        do {
            let store = try ProvenanceStore(path: path)
            let (run, _) = try store.beginRun(RunStart(command: "test", arguments: ["cloak", "test"], toolVersion: "0"))
            try store.finishRun(run.id!, status: .done)
        }
        let reopened = try ProvenanceStore(path: path)
        #expect(try reopened.appliedMigrations() == ProvenanceStore.knownMigrations)
        let runs = try reopened.recentRuns()
        #expect(runs.count == 1)
        #expect(runs.first?.status == .done)
    }

    @Test func olderStoreIsMigratedForward() throws {
        // Given a store created by a Cloak that knew only the first migration
        let dir = try makeTemporaryDirectory()
        let path = dir + "/old.sqlite"
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(queue, upTo: ProvenanceStore.knownMigrations[0])
        }
        // When this version opens it, then all migrations are applied
        let store = try ProvenanceStore(path: path)
        #expect(try store.appliedMigrations() == ProvenanceStore.knownMigrations)
    }

    @Test func fileThatIsNotSQLiteIsRefusedAndUntouched() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/notes.sqlite"
        let garbage = Data("this is a text file, not a database\n".utf8)
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError.notADatabase(path: path)) { try ProvenanceStore(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let message = StoreError.notADatabase(path: path).errorDescription ?? ""
        #expect(message.contains(path))
    }

    @Test func foreignSQLiteDatabaseIsRefused() throws {
        let dir = try makeTemporaryDirectory()
        let path = dir + "/other.sqlite"
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { try $0.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY)") }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.foreignDatabase(path: path)) { try ProvenanceStore(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func storeFromNewerSchemaIsRefusedAndUntouched() throws {
        // Given a store that a newer Cloak migrated further
        let dir = try makeTemporaryDirectory()
        let path = dir + "/future.sqlite"
        do {
            let store = try ProvenanceStore(path: path)
            try store.db.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
            try store.db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try store.db.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // When this version opens it, then it is refused with a clear error and the bytes are unchanged
        #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v99-future"])) {
            try ProvenanceStore(path: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let message = StoreError.newerSchema(path: path, unknownMigrations: ["v99-future"]).errorDescription ?? ""
        #expect(message.contains("newer Cloak") && message.contains(path))
    }

    @Test func directoryIsNotAStore() throws {
        let dir = try makeTemporaryDirectory()
        #expect(throws: StoreError.isAFolder(path: dir)) { try ProvenanceStore(path: dir) }
        #expect(StoreError.isAFolder(path: dir).errorDescription == "\(dir): is a folder; the store is a file (try \(dir)/cloak.sqlite)")
        // A file where a folder of the path should be is named
        #expect(FileManager.default.createFile(atPath: dir + "/file", contents: Data([1])))
        let inside = dir + "/file/sub/cloak.sqlite"
        #expect(throws: StoreError.sqlite(path: inside, message: "cannot create folder \(dir)/file/sub: \(dir)/file is a file, not a folder")) {
            try ProvenanceStore(path: inside)
        }
    }

    @Test func resolvePathPrefersFlagThenEnvironmentThenDefault() {
        #expect(ProvenanceStore.resolvePath(explicit: "x.sqlite", environment: ["CLOAK_STORE": "/e.sqlite"],
                                            currentDirectory: "/w") == "/w/x.sqlite")
        #expect(ProvenanceStore.resolvePath(explicit: nil, environment: ["CLOAK_STORE": "/e.sqlite"],
                                            currentDirectory: "/w") == "/e.sqlite")
        #expect(ProvenanceStore.resolvePath(explicit: nil, environment: [:], currentDirectory: "/w")
                == "/w/Store/cloak.sqlite")
    }
}

/// Error messages collected from several threads.
final class Failures: @unchecked Sendable {
    private var messages: [String] = []
    private let lock = NSLock()
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
