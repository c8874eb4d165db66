import CloakFace
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
