import Foundation

/// Why a dlib model file could not be used as the face descriptor network.
public enum FaceEmbedderError: Error, LocalizedError, Equatable, Sendable {
    /// The file parsed, but its layers are not dlib's face-descriptor ResNet (`expected` at a layer
    /// position, `found` instead).
    case unexpectedNetwork(path: String, expected: String, found: String)

    public var errorDescription: String? {
        switch self {
        case .unexpectedNetwork(let path, let expected, let found):
            return "\(path): not dlib's face descriptor network: expected \(expected), found \(found)"
        }
    }
}
