import CloakFace
import CloakImage
import CloakNN
import CloakTensor
import XCTest

/// The face cloak on one sample photo with few steps: it moves the descriptor, holds the budget and is
/// reproducible from its seed.
final class FaceCloakerTests: XCTestCase {
    private static let photoFile = "obama_partial_face2.jpg"

    private func cloaker(steps: Int, seed: UInt64 = 1) throws -> FaceCloaker {
        let finder = FaceFinder(detector: try FaceTestData.detector(), predictor: try FaceTestData.predictor())
        var settings = CloakMode.low.settings(seed: seed)
        settings.steps = steps
        settings.jittersPerStep = 2
        return FaceCloaker(embedder: try EmbedderTestData.embedder(), finder: finder, settings: settings)
    }

    func testUntargetedCloakMovesDescriptorWithinBudget() throws {
        let photo = try FaceTestData.photo(Self.photoFile)
        let cloaker = try cloaker(steps: 8)
        let faces = cloaker.finder.faces(in: photo)
        XCTAssertEqual(faces.count, 1)
        let result = cloaker.cloak(photo, faces: faces)
        let face = try XCTUnwrap(result.faces.first)
        let settings = cloaker.settings

        // The optimisation moves the descriptor further as it goes.
        XCTAssertEqual(face.trace.count, settings.steps + 1)
        let first = face.trace.first!.shift, last = face.trace.last!.shift
        XCTAssertGreaterThan(last, first + 0.1, "trace \(face.trace.map(\.shift))")
        // Measured as a tracker would: re-detected on the cloaked photo, fresh chips.
        XCTAssertTrue(face.redetected)
        XCTAssertGreaterThan(face.embeddingShift, 0.15)

        // Budget: face DSSIM and the per-sample cap, on the 8-bit output.
        XCTAssertLessThanOrEqual(face.dissimilarity, settings.dissimilarityBudget)
        XCTAssertLessThanOrEqual(face.maximumChange, settings.maximumChange)
        XCTAssertLessThanOrEqual(ImageMetrics.linf(photo, result.image), settings.maximumChange)
        XCTAssertGreaterThan(result.psnr, 35)
        XCTAssertEqual(result.ssim, ImageMetrics.ssim(photo, result.image), accuracy: 1e-9)

        // Nothing outside the face's region changes.
        for y in Swift.stride(from: 0, to: photo.height, by: 3) {
            for x in Swift.stride(from: 0, to: photo.width, by: 3)
            where x < face.region.left || x > face.region.right || y < face.region.top || y > face.region.bottom {
                let i = (y * photo.width + x) * 3
                XCTAssertEqual(photo.pixels[i..<(i + 3)], result.image.pixels[i..<(i + 3)], "pixel (\(x), \(y))")
            }
        }
        print("FaceCloakerTests: \(settings.steps) steps: shift \(face.embeddingShift), DSSIM \(face.dissimilarity), "
              + "PSNR \(result.psnr), L-inf \(face.maximumChange), \(face.seconds) s")
    }

    func testSameSeedGivesSameResult() throws {
        let photo = try FaceTestData.photo(Self.photoFile)
        let a = try cloaker(steps: 2, seed: 5), b = try cloaker(steps: 2, seed: 5)
        let faces = a.finder.faces(in: photo)
        var reports: [CloakProgress] = []
        let first = a.cloak(photo, faces: faces) { reports.append($0) }
        let second = b.cloak(photo, faces: faces)
        XCTAssertEqual(reports.map(\.step), [1, 2])
        XCTAssertEqual(reports.last?.fractionDone, 1)
        XCTAssertEqual(first.image, second.image)
        XCTAssertEqual(first.faces.map(\.trace), second.faces.map(\.trace))
        let other = try cloaker(steps: 2, seed: 6).cloak(photo, faces: faces)
        XCTAssertNotEqual(first.image, other.image)
    }

    func testTargetedCloakPullsTowardTarget() throws {
        let photo = try FaceTestData.photo(Self.photoFile)
        let cloaker = try cloaker(steps: 6)
        let biden = try FaceTestData.photo("biden.jpg")
        let bidenFace = try XCTUnwrap(cloaker.finder.faces(in: biden).first)
        let target = cloaker.embedder.descriptor(of: FaceChipExtractor.chip(from: biden, plan: bidenFace.chip))
        let faces = cloaker.finder.faces(in: photo)
        let before = cloaker.embedder.descriptor(of: FaceChipExtractor.chip(from: photo, plan: faces[0].chip))
        let result = cloaker.cloak(photo, faces: faces, objective: .targeted(descriptor: target))
        let face = try XCTUnwrap(result.faces.first)
        let start = euclideanDistance(before, target)
        XCTAssertLessThan(try XCTUnwrap(face.targetDistance), start - 0.05)
        XCTAssertLessThan(face.trace.last!.targetDistance!, face.trace.first!.targetDistance!)
        XCTAssertLessThanOrEqual(face.dissimilarity, cloaker.settings.dissimilarityBudget)
    }

    /// Two photos side by side: both faces are cloaked, each within its own region and the shared cap.
    func testEveryFaceOfAPhotoIsCloaked() throws {
        let left = try FaceTestData.photo(Self.photoFile), right = try FaceTestData.photo("obama_partial_face.jpg")
        XCTAssertEqual(left.height, right.height)
        var pixels = [UInt8]()
        for y in 0..<left.height {
            pixels += left.pixels[(y * left.width * 3)..<((y + 1) * left.width * 3)]
            pixels += right.pixels[(y * right.width * 3)..<((y + 1) * right.width * 3)]
        }
        let photo = RGBImage(width: left.width + right.width, height: left.height, pixels: pixels)
        let cloaker = try cloaker(steps: 3)
        let faces = cloaker.finder.faces(in: photo)
        XCTAssertEqual(faces.count, 2)
        let result = cloaker.cloak(photo, faces: faces)
        XCTAssertEqual(result.faces.count, 2)
        for face in result.faces {
            XCTAssertTrue(face.redetected)
            XCTAssertGreaterThan(face.embeddingShift, 0.05)
            XCTAssertGreaterThan(face.maximumChange, 0)
            XCTAssertLessThanOrEqual(face.dissimilarity, cloaker.settings.dissimilarityBudget)
        }
        XCTAssertLessThanOrEqual(ImageMetrics.linf(photo, result.image), cloaker.settings.maximumChange)
    }

    func testPhotoWithoutFacesIsUnchanged() throws {
        let photo = RGBImage(width: 64, height: 48, fill: (r: 90, g: 120, b: 200))
        let result = try cloaker(steps: 1).cloak(photo, faces: [])
        XCTAssertEqual(result.image, photo)
        XCTAssertTrue(result.faces.isEmpty)
        XCTAssertEqual(result.ssim, 1)
    }
}
