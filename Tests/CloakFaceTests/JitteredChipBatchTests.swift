@testable import CloakFace
import CloakImage
import CloakNN
import CloakTensor
import XCTest

/// Jittered chips from one shared pyramid: the un-jittered chip is dlib's, and the backward pass is the
/// exact transpose of the forward pass.
final class JitteredChipBatchTests: XCTestCase {
    func testUnjitteredChipEqualsChipWarp() throws {
        var levels: Set<Int> = []
        for golden in FaceTestData.goldens.images {
            let photo = FloatRGBImage(try FaceTestData.photo(golden.file))
            let plan = FaceChipPlan(details: FaceChipDetails(landmarks: golden.faces[0].points),
                                    photoWidth: photo.width, photoHeight: photo.height)
            levels.insert(plan.pyramidLevels)
            var batch = JitteredChipBatch(plan: plan, width: photo.width, height: photo.height, margin: 30)
            XCTAssertGreaterThanOrEqual(batch.crop.width, plan.region.width)
            let ours = batch.forward(photo, transforms: [batch.chipToLevel])[0]
            let reference = ChipWarp(plan: plan).forward(photo)
            XCTAssertLessThan(maxAbsDifference(ours.values, reference.values), 1e-3, golden.file)
            // A jitter of zero is the identity.
            let identity = batch.transform(shiftX: 0, shiftY: 0, scale: 1, rotation: 0)
            XCTAssertEqual(identity.tx, batch.chipToLevel.tx, accuracy: 1e-9)
            XCTAssertEqual(identity.a, batch.chipToLevel.a, accuracy: 1e-12)
        }
        XCTAssertEqual(levels, [0, 1], "the samples cover direct sampling and one pyramid level")
    }

    func testBackwardIsTheTransposeOfForward() {
        var generator = SplitMix64(seed: 11)
        let (w, h) = (260, 240)
        let image = FloatRGBImage(width: w, height: h, values: (0..<(w * h * 3)).map { _ in Float.random(in: 0...1, using: &generator) })
        let landmarks = [FacePoint(x: 170, y: 100), FacePoint(x: 145, y: 102), FacePoint(x: 85, y: 100),
                         FacePoint(x: 110, y: 102), FacePoint(x: 128, y: 150)]
        let plan = FaceChipPlan(details: FaceChipDetails(landmarks: landmarks), photoWidth: w, photoHeight: h)
        var batch = JitteredChipBatch(plan: plan, width: w, height: h, margin: 12)
        let transforms = [batch.transform(shiftX: 2, shiftY: -1.5, scale: 1.04, rotation: 0.05),
                          batch.transform(shiftX: -3, shiftY: 2, scale: 0.96, rotation: -0.07)]
        let chips = batch.forward(image, transforms: transforms)
        let chipGradients = chips.map { c in
            FloatRGBImage(width: c.width, height: c.height, values: c.values.map { _ in Float.random(in: -1...1, using: &generator) })
        }
        var imageGradient = FloatRGBImage(width: w, height: h)
        batch.addBackward(chipGradients, into: &imageGradient)
        let lhs = zip(chips, chipGradients).reduce(0.0) { total, pair in
            total + zip(pair.0.values, pair.1.values).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        let rhs = zip(image.values, imageGradient.values).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * abs(lhs) + 1e-3)
    }
}
