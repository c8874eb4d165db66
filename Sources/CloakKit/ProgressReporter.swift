import Foundation

/// Progress of long work on standard error: count, rate and ETA.
///
/// On a terminal it redraws one line at most ten times a second; otherwise (a log file, CI) it prints a
/// line at most every ten seconds. A quiet reporter prints nothing.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let total: Int?
    private let unit: String
    private let quiet: Bool
    private let terminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var lock = NSLock()
    private(set) var count = 0

    /// - Parameters:
    ///   - label: what is being done, e.g. `"import train"`.
    ///   - total: the number of items, when known (for the ETA).
    ///   - unit: plural noun for the items, e.g. `"images"`.
    ///   - quiet: print nothing.
    public init(_ label: String, total: Int?, unit: String = "files", quiet: Bool) {
        self.label = label
        self.total = total
        self.unit = unit
        self.quiet = quiet
        self.terminal = StandardError.isTerminal
    }

    /// Adds `n` finished items and redraws when due.
    public func advance(by n: Int = 1) {
        lock.lock()
        defer { lock.unlock() }
        count += n
        guard !quiet else { return }
        let now = Date()
        let interval = terminal ? 0.1 : 10
        if now.timeIntervalSince(lastDraw) >= interval {
            lastDraw = now
            draw(final: false)
        }
    }

    /// Prints the final line.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard !quiet else { return }
        draw(final: true)
    }

    private func draw(final: Bool) {
        let line = Self.line(label: label, count: count, total: total, unit: unit,
                             elapsed: Date().timeIntervalSince(start), final: final)
        if terminal {
            StandardError.write("\r\u{1B}[2K" + line + (final ? "\n" : ""))
        } else {
            StandardError.print(line)
        }
    }

    /// One progress line. The rate and the ETA appear only after half a second: the first item alone (start-up
    /// included, or one fast item) gave ETAs like 27 minutes for 12 seconds of work.
    static func line(label: String, count: Int, total: Int?, unit: String, elapsed: Double, final: Bool) -> String {
        var line = "\(label): \(grouped(count))"
        if let total { line += "/\(grouped(total))" }
        line += " \(unit)"
        var rate = 0.0
        if elapsed >= 0.5 {
            rate = Double(count) / elapsed
            // Slow work (large photos) keeps a meaningful rate: 0.34/s, not 0/s.
            line += rate >= 10 ? ", \(grouped(Int(rate.rounded())))/s" : String(format: ", %.2g/s", rate)
        }
        if final {
            line += ", \(duration(elapsed))"
        } else if let total, rate > 0 {
            line += ", ETA \(duration(Double(total - count) / rate))"
        }
        return line
    }

    /// `12345` -> `"12,345"`.
    static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// Seconds as `"4.2s"`, `"3m 05s"` or `"1h 02m"`.
    public static func duration(_ seconds: Double) -> String {
        if !seconds.isFinite { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm %02ds", s / 60, s % 60) }
        return String(format: "%dh %02dm", s / 3600, (s % 3600) / 60)
    }
}
