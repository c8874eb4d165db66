import Foundation

/// Writes to standard error, where Cloak puts progress and warnings (standard output is for results).
public enum StandardError {
    /// Writes `text` as is (no newline added).
    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// How lines are worded for the reader: messages name settings by their property names in backticks, and the
    /// `cloak` executable sets this to show each as its command-line flag. Set once, before any job runs.
    public nonisolated(unsafe) static var wording: (String) -> String = { $0 }

    /// Writes `line` (as ``wording`` words it) and a newline.
    public static func print(_ line: String) {
        write(wording(line) + "\n")
    }

    /// True when standard error is a terminal (progress then redraws one line).
    public static var isTerminal: Bool { isatty(2) == 1 }
}
