import CloakFace
import XCTest

/// 5-point landmarks against real dlib on the sample photos, given dlib's own face boxes.
final class LandmarkTests: XCTestCase {
    func testLandmarksMatchDlibWithinOnePixel() throws {
        let predictor = try FaceTestData.predictor()
        var checked = 0
        for golden in FaceTestData.goldens.images {
            let image = try FaceTestData.photo(golden.file)
            for face in golden.faces {
                let points = predictor.landmarks(in: image, box: face.faceBox)
                XCTAssertEqual(points.count, 5)
                for (ours, theirs) in zip(points, face.points) {
                    XCTAssertLessThanOrEqual(abs(ours.x - theirs.x), 1, "\(golden.file): x \(ours) vs dlib \(theirs)")
                    XCTAssertLessThanOrEqual(abs(ours.y - theirs.y), 1, "\(golden.file): y \(ours) vs dlib \(theirs)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 7)
    }
}
