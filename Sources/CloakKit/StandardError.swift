import Foundation

/// Writes to standard error, where Cloak puts progress and warnings (standard output is for results).
public enum StandardError {
    /// Writes `text` as is (no newline added).
    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Writes `line` and a newline.
    public static func print(_ line: String) {
        write(line + "\n")
    }

    /// True when standard error is a terminal (progress then redraws one line).
    public static var isTerminal: Bool { isatty(2) == 1 }
}
