import Foundation

/// A setting out of its range, or one that does not fit the others.
///
/// Messages of every layer below the command line name settings by their property names in backticks
/// (`` `maxRounds` ``), never by a command-line flag; the `cloak` executable shows each as its flag
/// (`--max-rounds`).
public struct SettingError: Error, LocalizedError, Equatable {
    /// The setting's property name, e.g. `epsilon`.
    public var setting: String
    /// What is wrong with it, e.g. "must be in (0, 255], got 300".
    public var reason: String

    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var errorDescription: String? { "`\(setting)` \(reason)" }
}
