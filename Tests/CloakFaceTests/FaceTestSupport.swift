import CloakFace
import CloakImage
import Foundation
import XCTest

/// Paths and fixtures shared by the CloakFace tests. Models and photos come from
/// `scripts/fetch-face-data.sh` (git-ignored `Datasets/`); tests that need them skip with a message when
/// they are missing.
enum FaceTestData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let modelsDirectory = repositoryRoot.appendingPathComponent("Datasets/dlib-models")
    static let samplesDirectory = repositoryRoot.appendingPathComponent("Datasets/face-samples")
    static let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let resnetFile = "dlib_face_recognition_resnet_model_v1.dat"
    static let landmarksFile = "shape_predictor_5_face_landmarks.dat"
    static let mmodFile = "mmod_human_face_detector.dat"
    static let hogFile = "frontal_face_detector.dat"

    /// The path of a model file, or a skip naming the script that fetches it.
    static func model(_ name: String) throws -> String {
        let path = modelsDirectory.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing; run scripts/fetch-face-data.sh")
        }
        return path
    }

    /// A decoded sample photo, or a skip.
    static func photo(_ name: String) throws -> RGBImage {
        let path = samplesDirectory.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing; run scripts/fetch-face-data.sh")
        }
        return try ImageCodec.decode(path: path).image
    }

    static let goldens: FaceGoldens = {
        let url = fixturesDirectory.appendingPathComponent("face_goldens.json")
        do {
            return try JSONDecoder().decode(FaceGoldens.self, from: Data(contentsOf: url))
        } catch {
            preconditionFailure("cannot read \(url.path): \(error)")
        }
    }()

    /// Loaded once: the parsed models are immutable and parsing the predictor takes a moment.
    nonisolated(unsafe) static var cachedPredictor: ShapePredictor?
    nonisolated(unsafe) static var cachedDetector: HOGFaceDetector?

    static func predictor() throws -> ShapePredictor {
        if let cachedPredictor { return cachedPredictor }
        let p = try ShapePredictor(contentsOf: try model(landmarksFile))
        cachedPredictor = p
        return p
    }

    static func detector() throws -> HOGFaceDetector {
        if let cachedDetector { return cachedDetector }
        let d = try HOGFaceDetector(contentsOf: try model(hogFile))
        cachedDetector = d
        return d
    }
}

/// `face_goldens.json`, written by `Fixtures/make_face_goldens.py` from real dlib.
struct FaceGoldens: Decodable {
    struct Face: Decodable {
        var box: [Int]
        var score: Double
        var filter: Int
        var landmarks: [[Int]]
        var chipMean: [Double]
        var chipSampleStride: Int
        var chipSample: String
        var descriptor: [Float]

        var faceBox: FaceBox { FaceBox(left: box[0], top: box[1], right: box[2], bottom: box[3]) }
        var points: [FacePoint] { landmarks.map { FacePoint(x: Double($0[0]), y: Double($0[1])) } }
        var chipSampleBytes: [UInt8] { [UInt8](Data(base64Encoded: chipSample)!) }
    }

    struct Detection: Decodable {
        var box: [Int]
        var score: Double
        var filter: Int
    }

    struct Image: Decodable {
        var file: String
        var width: Int
        var height: Int
        var rgbSum: Int
        var faces: [Face]
        var upsampled: [Detection]
    }

    var dlib: String
    var images: [Image]
}
