import CloakFace
import CloakImage
import Foundation

/// The file format of cloaked photos.
public enum PhotoOutputFormat: String, Codable, CaseIterable, Sendable {
    /// The input's own format (JPEG stays JPEG, PNG stays PNG).
    case keep
    /// Lossless PNG: the cloak exactly as optimised.
    case png
    /// JPEG at ``FaceJobSettings/jpegQuality``.
    case jpg
}

/// Everything `cloak faces` needs to know besides the paths. Recorded as the run's parameters.
public struct FaceJobSettings: Codable, Sendable, Equatable {
    /// Preset strength (see ``CloakMode``).
    public var mode: CloakMode = .standard
    /// Seed of the cloak's random start and jitters.
    public var seed: UInt64 = 0
    public var format: PhotoOutputFormat = .keep
    /// JPEG quality of JPEG outputs. The default 95 with 4:4:4 chroma keeps the cloak (lower qualities
    /// remove part of it; the measured shift after re-encoding at 85 and 75 is reported per face).
    public var jpegQuality: Int = ImageCodec.defaultJPEGQuality
    /// Carry EXIF (minus GPS, maker notes, thumbnail), XMP without location, and comments over.
    public var keepMetadata = false
    /// Folder of another person's photos: pull the faces toward that identity's mean descriptor instead of
    /// pushing them away from their own.
    public var targetFolder: String?
    /// Mirrored output tree; `nil` writes `<name>.cloaked.<ext>` beside each original.
    public var outputFolder: String?
    /// Cloak again even when the store shows this photo already cloaked with these settings.
    public var force = false
    /// Also measure the shift after JPEG re-encoding at qualities 85 and 75 (two extra detections and
    /// descriptor passes per photo).
    public var checkRecompression = true
    /// Folder with the dlib models.
    public var modelsDirectory = FaceModels.defaultDirectory
    /// Doublings of each photo before face detection (``FaceFinder/upsample``): 1 finds faces from about
    /// 40 px, as the common dlib tracker does.
    public var upsample = FaceModels.defaultUpsample

    public init() {}

    /// The cloak's optimisation settings for ``mode`` and ``seed``.
    public var cloakSettings: CloakSettings { mode.settings(seed: seed) }

    /// Throws ``FaceJobError/badOption(_:)`` for settings no photo could be cloaked with.
    public func validate() throws {
        guard FaceModels.upsampleRange.contains(upsample) else {
            throw FaceJobError.badOption("`upsample` must be \(FaceModels.upsampleRange), got \(upsample)")
        }
        guard (1...100).contains(jpegQuality) else {
            throw FaceJobError.badOption("`jpegQuality` must be 1...100, got \(jpegQuality)")
        }
    }
}
