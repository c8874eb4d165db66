import CloakStore
import CloakSupport
import Foundation

/// `cloak history`: recent runs as a table or JSON.
public enum HistoryReport {
    /// A fixed-width table, newest run first.
    public static func text(_ runs: [RunSummary]) -> String {
        if runs.isEmpty { return "No runs recorded yet.\n" }
        var rows: [[String]] = [["ID", "COMMAND", "STATUS", "OK", "FAILED", "STARTED", "DURATION"]]
        for run in runs {
            rows.append([
                String(run.id),
                commandLine(run.arguments, fallback: run.command),
                run.status.rawValue + (run.resumedCount > 0 ? " (resumed \(run.resumedCount)x)" : ""),
                ProgressReporter.grouped(run.filesOK),
                ProgressReporter.grouped(run.filesFailed),
                timestamp(run.startedAt),
                run.durationSeconds.map(ProgressReporter.duration) ?? "-",
            ])
        }
        let rightAligned: Set<Int> = [0, 3, 4, 6]
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        var out = ""
        for row in rows {
            let cells = row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned.contains(c) ? pad + cell : cell + pad
            }
            out += String(cells.joined(separator: "  ").reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }
        let problems = runs.filter { $0.status != .done && $0.message != nil }
        for run in problems {
            out += "run \(run.id): \(run.message!)\n"
        }
        return out
    }

    /// The runs as a JSON array.
    public static func json(_ runs: [RunSummary]) throws -> String {
        try JSON.pretty(runs) + "\n"
    }

    /// A run's command line for display: program name shortened to `cloak`, at most 60 characters. A run made
    /// by another command (the demo runs `faces`, `unlearnable`, ...) shows as `cloak faces (in cloak demo)`.
    static func commandLine(_ arguments: [String], fallback: String) -> String {
        guard !arguments.isEmpty else { return fallback }
        var words = arguments
        words[0] = "cloak"
        let commandWords = fallback.split(separator: " ").map(String.init)
        if !commandWords.isEmpty && Array(words.dropFirst().prefix(commandWords.count)) != commandWords {
            let caller = "cloak " + (words.count > 1 ? words[1] : "")
            return "cloak \(fallback) (in \(caller))"
        }
        let line = words.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        return line.count > 60 ? String(line.prefix(57)) + "..." : line
    }

    /// Local time as `2026-11-25 14:03:12`.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}
