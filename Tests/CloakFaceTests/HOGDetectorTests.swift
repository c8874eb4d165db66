import CloakFace
import CloakImage
import XCTest

/// The HOG detector against real dlib's `detector(img, 0)` on the sample photos.
final class HOGDetectorTests: XCTestCase {
    func testFindsEveryFaceDlibFinds() throws {
        let detector = try FaceTestData.detector()
        for golden in FaceTestData.goldens.images {
            let image = try FaceTestData.photo(golden.file)
            let found = detector.detect(in: image)
            XCTAssertEqual(found.count, golden.faces.count, "\(golden.file): \(found) vs dlib \(golden.faces.map(\.box))")
            for face in golden.faces {
                let best = found.map { $0.box.iou(face.faceBox) }.max() ?? 0
                XCTAssertGreaterThanOrEqual(best, 0.8, "\(golden.file): dlib box \(face.box), ours \(found.map(\.box))")
                if let match = found.first(where: { $0.box.iou(face.faceBox) >= 0.8 }) {
                    XCTAssertEqual(match.score, face.score, accuracy: 0.05, "\(golden.file) score")
                    XCTAssertEqual(match.filterIndex, face.filter, "\(golden.file) filter")
                }
            }
        }
    }
}

extension HOGDetectorTests {
    /// `detector(img, 1)` (face_recognition's default) on the two smallest photos.
    func testUpsampledDetectionMatchesDlib() throws {
        let detector = try FaceTestData.detector()
        for name in ["obama_partial_face.jpg", "obama_partial_face2.jpg"] {
            let golden = FaceTestData.goldens.images.first { $0.file == name }!
            let found = detector.detect(in: try FaceTestData.photo(name), upsample: 1)
            XCTAssertEqual(found.count, golden.upsampled.count, "\(name): \(found)")
            for d in golden.upsampled {
                let box = FaceBox(left: d.box[0], top: d.box[1], right: d.box[2], bottom: d.box[3])
                let best = found.max { $0.box.iou(box) < $1.box.iou(box) }
                XCTAssertGreaterThanOrEqual(best?.box.iou(box) ?? 0, 0.8, "\(name): dlib \(box), ours \(found.map(\.box))")
                XCTAssertEqual(best?.score ?? 0, d.score, accuracy: 0.05, "\(name) score")
            }
        }
    }

    func testUpDoubleSizeMatchesDlib() {
        let up = ImagePyramid.upDouble(RGBImage(width: 10, height: 7, fill: (9, 9, 9)))
        XCTAssertEqual([up.width, up.height], [22, 15])
        XCTAssertTrue(up.pixels.allSatisfy { $0 == 9 })
    }
}
