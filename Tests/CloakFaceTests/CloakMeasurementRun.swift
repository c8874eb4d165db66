import CloakFace
import CloakImage
import Foundation
import XCTest

/// Not a unit test: cloaks every sample photo at a mode and prints a Markdown table (shift, DSSIM, PSNR,
/// L-inf, time per face, and the shift after JPEG re-encoding), for `Fixtures/CLOAK_MEASUREMENTS.md`.
/// Runs only with `CLOAK_FACE_MEASURE=<mode>` (low, mid or high); with `CLOAK_FACE_MEASURE_OUT=<folder>` it
/// also writes `<stem>.cloaked.png`, `<stem>.q85.jpg` and `<stem>.q75.jpg` there for
/// `Fixtures/measure_cloak_with_dlib.py`.
final class CloakMeasurementRun: XCTestCase {
    func testMeasureSamplePhotos() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let modeName = environment["CLOAK_FACE_MEASURE"] else {
            throw XCTSkip("measurement run: set CLOAK_FACE_MEASURE=low|mid|high to cloak all sample photos")
        }
        let mode = try XCTUnwrap(CloakMode(rawValue: modeName), "CLOAK_FACE_MEASURE must be low, mid or high")
        let output = environment["CLOAK_FACE_MEASURE_OUT"]
        let finder = FaceFinder(detector: try FaceTestData.detector(), predictor: try FaceTestData.predictor())
        let embedder = try EmbedderTestData.embedder()
        var settings = mode.settings(seed: environment["CLOAK_FACE_SEED"].flatMap(UInt64.init) ?? 1)
        // Tuning knobs: CLOAK_FACE_SEED, CLOAK_FACE_STEPS, CLOAK_FACE_LEARNING_RATE, CLOAK_FACE_FINAL_LR_FRACTION,
        // CLOAK_FACE_MARGIN_FRACTION, CLOAK_FACE_JITTERS.
        if let n = environment["CLOAK_FACE_STEPS"].flatMap(Int.init) { settings.steps = n }
        if let n = environment["CLOAK_FACE_JITTERS"].flatMap(Int.init) { settings.jittersPerStep = n }
        if let lr = environment["CLOAK_FACE_LEARNING_RATE"].flatMap(Float.init) { settings.learningRate = lr }
        if let f = environment["CLOAK_FACE_FINAL_LR_FRACTION"].flatMap(Float.init) { settings.finalLearningRateFraction = f }
        if let m = environment["CLOAK_FACE_MARGIN_FRACTION"].flatMap(Double.init) { settings.marginFraction = m }
        print("settings: \(settings)")
        let cloaker = FaceCloaker(embedder: embedder, finder: finder, settings: settings)
        print("| photo | size | face | shift | after q85 | after q75 | max jittered | face DSSIM | PSNR dB | SSIM | L-inf | s/face |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for golden in FaceTestData.goldens.images {
            let photo = try FaceTestData.photo(golden.file)
            let faces = finder.faces(in: photo)
            let result = cloaker.cloak(photo, faces: faces)
            let stem = (golden.file as NSString).deletingPathExtension
            var requantised: [Int: RGBImage] = [:]
            for quality in [85, 75] {
                let bytes = try ImageCodec.encode(result.image, as: .jpeg, options: .init(jpegQuality: quality))
                requantised[quality] = try ImageCodec.decode(bytes: bytes, path: "q\(quality)").image
                if let output {
                    try ImageCodec.write(requantised[quality]!, to: "\(output)/\(stem).q\(quality).png", as: .png,
                                         createParentDirectories: true)
                }
            }
            if let output {
                try ImageCodec.write(result.image, to: "\(output)/\(stem).cloaked.png", as: .png, createParentDirectories: true)
            }
            for (i, face) in result.faces.enumerated() {
                let shifts = [85, 75].map { q -> String in
                    let found = finder.faces(in: requantised[q]!)
                    guard let match = found.max(by: { $0.detection.box.iou(face.box) < $1.detection.box.iou(face.box) }),
                          match.detection.box.iou(face.box) >= 0.5 else { return "not found" }
                    let a = embedder.descriptor(of: FaceChipExtractor.chip(from: photo, plan: faces[i].chip))
                    let b = embedder.descriptor(of: FaceChipExtractor.chip(from: requantised[q]!, plan: match.chip))
                    return String(format: "%.3f", euclideanDistance(a, b))
                }
                let best = face.trace.max { $0.shift < $1.shift }?.shift ?? 0
                print(String(format: "| %@ | %dx%d | %d | %.3f%@ | %@ | %@ | %.3f | %.4f | %.1f | %.4f | %d | %.1f |",
                             golden.file, photo.width, photo.height, i, face.embeddingShift, face.redetected ? "" : " (not re-detected)",
                             shifts[0], shifts[1], best, face.dissimilarity, result.psnr, result.ssim, face.maximumChange,
                             face.seconds))
            }
        }
    }
}
