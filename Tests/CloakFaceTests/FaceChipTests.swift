import CloakFace
import CloakImage
import XCTest

/// Chips against real dlib's `get_face_chip(img, shape, 150, 0.25)`, from dlib's own landmarks.
final class FaceChipTests: XCTestCase {
    func testChipsMatchDlibWithinTwoGreyLevels() throws {
        var checked = 0
        for golden in FaceTestData.goldens.images {
            let image = try FaceTestData.photo(golden.file)
            for face in golden.faces {
                let chip = FaceChipExtractor.chip(from: image, landmarks: face.points)
                XCTAssertEqual([chip.width, chip.height], [150, 150])
                let stride = face.chipSampleStride
                let expected = face.chipSampleBytes
                var ours = [UInt8]()
                for r in Swift.stride(from: 0, to: 150, by: stride) {
                    for c in Swift.stride(from: 0, to: 150, by: stride) {
                        ours += chip.pixels[((r * 150 + c) * 3)..<((r * 150 + c) * 3 + 3)]
                    }
                }
                XCTAssertEqual(ours.count, expected.count)
                let meanAbs = Double(zip(ours, expected).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(ours.count)
                XCTAssertLessThanOrEqual(meanAbs, 2, "\(golden.file): sampled chip pixels mean |diff| \(meanAbs)")
                for ch in 0..<3 {
                    let mean = Double(Swift.stride(from: ch, to: chip.pixels.count, by: 3).reduce(0) { $0 + Int(chip.pixels[$1]) }) / 22500
                    XCTAssertEqual(mean, face.chipMean[ch], accuracy: 2, "\(golden.file): chip channel \(ch) mean")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 7)
    }

    func testPlanUsesOnePyramidLevelForLargeFaces() throws {
        // A face whose chip rectangle is ~340 px wide is halved once before sampling, as dlib does.
        let details = FaceChipDetails(landmarks: [FacePoint(x: 398, y: 387), FacePoint(x: 347, y: 382), FacePoint(x: 232, y: 373),
                                                  FacePoint(x: 276, y: 377), FacePoint(x: 289, y: 471)])
        XCTAssertGreaterThan(details.width, 300)
        let plan = FaceChipPlan(details: details, photoWidth: 626, photoHeight: 1200)
        XCTAssertEqual(plan.pyramidLevels, 1)
        // The chip centre maps to the rectangle centre in the photo.
        let centre = plan.chipToPhoto.apply(FacePoint(x: 74.5, y: 74.5))
        XCTAssertEqual(centre.x, (details.left + details.right) / 2, accuracy: 1.5)
        XCTAssertEqual(centre.y, (details.top + details.bottom) / 2, accuracy: 1.5)
    }
}
