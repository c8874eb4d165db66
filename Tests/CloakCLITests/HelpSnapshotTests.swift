import Foundation
import Testing

/// `--help` of every command, compared character for character with committed snapshots.
/// To accept a deliberate change: `CLOAK_RECORD_SNAPSHOTS=1 swift test --filter HelpSnapshotTests`.
@Suite("CLI help snapshots")
struct HelpSnapshotTests {
    static let commands: [[String]] = [
        [], ["datasets"], ["datasets", "import"], ["unlearnable"], ["faces"], ["verify"], ["verify", "dataset"], ["verify", "faces"], ["inspect"],
        ["history"], ["show"], ["demo"],
    ]

    static let snapshotDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots")

    @Test(arguments: commands)
    func helpMatchesSnapshot(_ command: [String]) throws {
        let dir = try makeWorkFolder()
        let result = try CLI.run(command + ["--help"], in: dir, environment: ["COLUMNS": "100"])
        #expect(result.status == 0, "\(result.stderr)")
        let name = (["cloak"] + command).joined(separator: "-") + ".txt"
        let url = Self.snapshotDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["CLOAK_RECORD_SNAPSHOTS"] == "1" {
            try result.stdout.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(result.stdout == expected, "help of `cloak \(command.joined(separator: " "))` changed; see \(url.path)")
    }

    @Test func everySubcommandHasAnAbstract() throws {
        let dir = try makeWorkFolder()
        let root = try CLI.run(["--help"], in: dir).stdout
        for name in ["datasets", "unlearnable", "faces", "verify", "inspect", "history", "show", "demo"] {
            let line = root.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + " ") }
            #expect(line != nil && line!.count > name.count + 10, "no abstract for \(name) in:\n\(root)")
        }
    }

    /// Every flag the README and docs/commands.md name is one `cloak` has: each appears in the help of some command
    /// (the snapshots, which the test above compares with the real help).
    @Test func everyFlagTheDocsNameExists() throws {
        let root = Self.snapshotDirectory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let help = try FileManager.default.contentsOfDirectory(atPath: Self.snapshotDirectory.path)
            .map { try String(contentsOf: Self.snapshotDirectory.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n")
        for doc in ["README.md", "docs/commands.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(doc), encoding: .utf8)
            let flags = Set(text.matches(of: /--[a-z][a-z-]*[a-z]/).map { String($0.output) })
            #expect(flags.count > 10, "\(doc) names few flags: \(flags)")
            for flag in flags.sorted() where !help.contains(flag + " ") && !help.contains(flag + "\n") {
                Issue.record("\(doc) names \(flag), which no command's help lists")
            }
        }
    }

    @Test func versionIsPrinted() throws {
        let result = try CLI.run(["--version"], in: try makeWorkFolder())
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }
}
