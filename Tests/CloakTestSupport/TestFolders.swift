import CloakSupport
import Foundation

/// Temporary folders for tests. They all live under one folder per test process,
/// `<tmp>/cloak-tests-<pid>/`, which is removed when the process exits; folders left behind by a test process
/// that was killed are removed by the next one. (Before this, every `make test` left about 2.5 GB of imported
/// data sets and stores in the temporary folder.)
public enum TestFolders {
    /// A fresh, empty folder named `<label>-<uuid>`, with the given POSIX permissions (default: the umask's).
    public static func make(_ label: String, permissions: Int? = nil) throws -> String {
        let dir = root + "/\(label)-\(UUID().uuidString)"
        let attributes: [FileAttributeKey: Any]? = permissions.map { [.posixPermissions: $0] }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                attributes: attributes)
        return dir
    }

    static let prefix = "cloak-tests-"

    /// This process's folder: created on first use, removed at exit.
    static let root: String = {
        removeFoldersOfEndedProcesses()
        let path = folder(forProcess: getpid())
        // World-traversable: some tests run the CLI as another user inside a folder made writable for it.
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o755])
        atexit { try? FileManager.default.removeItem(atPath: TestFolders.folder(forProcess: getpid())) }
        return path
    }()

    static func folder(forProcess pid: pid_t) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent(prefix + String(pid))
    }

    /// Removes `cloak-tests-<pid>` folders whose process no longer exists.
    static func removeFoldersOfEndedProcesses() {
        let tmp = NSTemporaryDirectory()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: tmp) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: (tmp as NSString).appendingPathComponent(name))
            }
        }
    }
}
