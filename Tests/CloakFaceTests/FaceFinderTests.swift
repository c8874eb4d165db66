import CloakFace
import CloakImage
import XCTest

/// The whole pipeline (detect, landmarks, chip plan), including detection on a downscaled copy.
final class FaceFinderTests: XCTestCase {
    private func finder(maximumDetectionSide: Int, upsample: Int = 0) throws -> FaceFinder {
        FaceFinder(detector: try FaceTestData.detector(), predictor: try FaceTestData.predictor(),
                   maximumDetectionSide: maximumDetectionSide, upsample: upsample)
    }

    func testFullResolutionPipelineReproducesDlibChip() throws {
        let golden = FaceTestData.goldens.images.first { $0.file == "obama.jpg" }!
        let image = try FaceTestData.photo(golden.file)
        let faces = try finder(maximumDetectionSide: 4000).faces(in: image)
        XCTAssertEqual(faces.count, 1)
        XCTAssertEqual(faces[0].detection.box, golden.faces[0].faceBox)
        XCTAssertEqual(faces[0].landmarks, golden.faces[0].points)
        let chip = FaceChipExtractor.chip(from: image, plan: faces[0].chip)
        let mean = Double(stride(from: 0, to: chip.pixels.count, by: 3).reduce(0) { $0 + Int(chip.pixels[$1]) }) / 22500
        XCTAssertEqual(mean, golden.faces[0].chipMean[0], accuracy: 0.01)
    }

    func testLargePhotoIsDetectedOnADownscaledCopy() throws {
        // obama3.jpg is 1434x2333; detect at most 1000 px on the longer side and map back.
        let golden = FaceTestData.goldens.images.first { $0.file == "obama3.jpg" }!
        let image = try FaceTestData.photo(golden.file)
        let faces = try finder(maximumDetectionSide: 1000).faces(in: image)
        XCTAssertEqual(faces.count, 1)
        let face = try XCTUnwrap(faces.first)
        XCTAssertGreaterThanOrEqual(face.detection.box.iou(golden.faces[0].faceBox), 0.8, "\(face.detection.box)")
        for (ours, theirs) in zip(face.landmarks, golden.faces[0].points) {
            XCTAssertLessThanOrEqual(max(abs(ours.x - theirs.x), abs(ours.y - theirs.y)), 3, "\(ours) vs dlib \(theirs)")
        }
    }

    func testAreaAverageKeepsMeanColour() {
        var pixels = [UInt8]()
        for y in 0..<9 { for x in 0..<12 { pixels += [UInt8(x * 20), UInt8(y * 25), 77] } }
        let image = RGBImage(width: 12, height: 9, pixels: pixels)
        let small = ImagePyramid.areaAverage(image, width: 5, height: 4)
        XCTAssertEqual([small.width, small.height], [5, 4])
        func mean(_ img: RGBImage, _ ch: Int) -> Double {
            Double(stride(from: ch, to: img.pixels.count, by: 3).reduce(0) { $0 + Int(img.pixels[$1]) }) / Double(img.pixelCount)
        }
        for ch in 0..<3 { XCTAssertEqual(mean(small, ch), mean(image, ch), accuracy: 1) }
        XCTAssertEqual(small.pixels[2], 77)
    }

    func testNoFaceInFlatImage() throws {
        let grey = RGBImage(width: 400, height: 300, fill: (128, 128, 128))
        XCTAssertTrue(try finder(maximumDetectionSide: 2000).faces(in: grey).isEmpty)
    }
}

extension FaceFinderTests {
    func testGreyscalePhotoStillFindsTheFace() throws {
        let golden = FaceTestData.goldens.images.first { $0.file == "obama2.jpg" }!
        let colour = try FaceTestData.photo(golden.file)
        var grey = [UInt8]()
        for i in 0..<colour.pixelCount { grey.append(UInt8((Int(colour.pixels[3 * i]) + Int(colour.pixels[3 * i + 1]) + Int(colour.pixels[3 * i + 2])) / 3)) }
        let faces = try finder(maximumDetectionSide: 2000).faces(in: RGBImage(width: colour.width, height: colour.height, gray: grey))
        XCTAssertEqual(faces.count, 1)
        XCTAssertGreaterThanOrEqual(faces.first?.detection.box.iou(golden.faces[0].faceBox) ?? 0, 0.8)
    }

    func testFaceSmallerThanTheWindowIsNotFoundWithoutUpsampling() throws {
        // obama.jpg shrunk 8x: the ~260 px face becomes ~32 px, below the 80 px window.
        let image = try FaceTestData.photo("obama.jpg")
        let small = ImagePyramid.areaAverage(image, width: image.width / 8, height: image.height / 8)
        XCTAssertTrue(try finder(maximumDetectionSide: 2000).faces(in: small).isEmpty)
        let upsampled = try FaceTestData.detector().detect(in: small, upsample: 2)
        XCTAssertEqual(upsampled.count, 1, "two doublings bring the face back above the window")
    }

    /// obama.jpg shrunk 6x: a face of about 45 px, which dlib's `detector(img, 1)` (face_recognition's
    /// default) finds and `detector(img, 0)` does not.
    private func smallFacePhoto() throws -> RGBImage {
        let image = try FaceTestData.photo("obama.jpg")
        return ImagePyramid.areaAverage(image, width: image.width / 6, height: image.height / 6)
    }

    func testOneDoublingFindsTheSmallFaceAsTheDoubledDetectorDoes() throws {
        let small = try smallFacePhoto()
        XCTAssertTrue(try finder(maximumDetectionSide: 2000).faces(in: small).isEmpty)
        let finder = try finder(maximumDetectionSide: 2000, upsample: 1)
        let faces = finder.faces(in: small)
        XCTAssertEqual(faces.map(\.detection.box), try FaceTestData.detector().detect(in: small, upsample: 1).map(\.box))
        XCTAssertLessThan(faces.first?.detection.box.width ?? 0, 80)
        XCTAssertEqual(finder.smallestFace(longerSide: 1000), 40)
        XCTAssertEqual(finder.smallestFace(longerSide: 4000), 80, "shrunk to 2000 for detection, then doubled")
    }

    func testLargePhotoDoubledAfterShrinkingMatchesDlibsDoubledDetection() throws {
        // obama3.jpg (1434x2333) shrunk to 1000 px and doubled; each face refined on the doubled full photo.
        let golden = FaceTestData.goldens.images.first { $0.file == "obama3.jpg" }!
        let faces = try finder(maximumDetectionSide: 1000, upsample: 1).faces(in: try FaceTestData.photo(golden.file))
        XCTAssertEqual(faces.count, golden.upsampled.count)
        for d in golden.upsampled {
            let box = FaceBox(left: d.box[0], top: d.box[1], right: d.box[2], bottom: d.box[3])
            let best = faces.map(\.detection.box).max { $0.iou(box) < $1.iou(box) }
            XCTAssertGreaterThanOrEqual(best?.iou(box) ?? 0, 0.9, "dlib \(box), ours \(faces.map(\.detection.box))")
        }
    }
}
