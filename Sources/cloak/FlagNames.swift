import ArgumentParser
import Foundation

/// The command line's names for the settings that lower layers name in their messages.
///
/// CloakKit and the modules below it name a setting by its property name in backticks (`` `maxRounds` ``) and never
/// by a flag; before a message reaches the user, ``reworded(_:)`` puts each one's flag in its
/// place (`--max-rounds`). A property is its flag in kebab case unless ``exceptions`` says otherwise.
enum FlagNames {
    static let exceptions: [String: String] = [
        "outputFolder": "--out", "noiseFolder": "--noise-from", "reportFolder": "--report", "targetFolder": "--target",
        "modelsDirectory": "--models", "keepsState": "--keep-state", "width": "--size", "height": "--size",
        "trainFolder": "<train-folder>", "testFolder": "--test", "baselineFolder": "--baseline",
        "reusesTrainedModels": "--retrain", "checkRecompression": "--no-recompression-check",
        "maxPixels": "--max-megapixels",
    ]

    /// The flag of the setting `property`.
    static func flag(for property: String) -> String {
        if let flag = exceptions[property] { return flag }
        return "--" + property.reduce(into: "") { out, c in
            if c.isUppercase { out += "-" + c.lowercased() } else { out.append(c) }
        }
    }

    /// `message` with every backticked property name (`` `maxRounds` ``) replaced by its flag.
    static func reworded(_ message: String) -> String {
        var out = "", rest = Substring(message)
        while let open = rest.firstIndex(of: "`") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "`"), let first = after.first, first.isLowercase,
                  after[..<close].allSatisfy({ $0.isLetter || $0.isNumber }) else {
                out += rest[...open]
                rest = after
                continue
            }
            out += rest[..<open] + flag(for: String(after[..<close]))
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

    /// The message of an error from a lower layer, worded for the command line.
    static func message(of error: Error) -> String {
        reworded((error as? LocalizedError)?.errorDescription ?? "\(error)")
    }

    /// `error` worded for the command line: a lower layer's error becomes a ``CommandLineError`` with its message
    /// reworded; ArgumentParser's own (help, validation, exit codes) stay as they are.
    static func wordedForTheCommandLine(_ error: Error) -> Error {
        guard let description = (error as? LocalizedError)?.errorDescription else { return error }
        return CommandLineError(errorDescription: reworded(description))
    }
}

/// A lower layer's error as the user reads it (see ``FlagNames``).
struct CommandLineError: Error, LocalizedError {
    var errorDescription: String?
}
