import Foundation

/// Failures of unlearnable-noise generation.
public enum UnlearnableError: Error, LocalizedError, Equatable {
    case invalidSettings(String)
    case tooFewImages(path: String, count: Int)
    case stopErrorNotReached(rounds: Int, error: Double, stopError: Double)
    case stateMismatch(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .invalidSettings(let message): return message
        case .tooFewImages(let path, let count):
            return "\(path): only \(count) usable image(s); noise generation needs at least one image in each of two classes"
        case .stopErrorNotReached(let rounds, let error, let stopError):
            return String(format: "the surrogate's error was still %.4f after ", error) + UnlearnableReport.rounds(rounds)
                + String(format: " (stop error %.4f", stopError) + (stopError == 0 ? ", which no error is below); " : "); ")
                + "no images were written. The state is saved: raise `maxRounds` to go on, or accept a higher "
                + "`stopError` (either resumes from the last round)"
        case .stateMismatch(let path, let reason):
            return "\(path): the saved state of an earlier run does not fit this one (\(reason)); use another `outputFolder`, or delete that state folder"
        }
    }
}
