import CloakFace
import CloakImage
import XCTest

/// The differentiable chip warp: adjoint identity, finite differences, and agreement with dlib's chip.
final class ChipWarpTests: XCTestCase {
    /// A 70x60 photo and a 20 px chip whose rectangle (~45 px) is halved once before sampling.
    private func smallWarp() -> (ChipWarp, FloatRGBImage) {
        var rng = SplitMix(seed: 7)
        let photo = FloatRGBImage(width: 70, height: 60, values: (0..<(70 * 60 * 3)).map { _ in Float(rng.next() % 256) })
        let landmarks = [FacePoint(x: 48, y: 22), FacePoint(x: 41, y: 23), FacePoint(x: 22, y: 21),
                         FacePoint(x: 29, y: 23), FacePoint(x: 35, y: 38)]
        let plan = FaceChipPlan(details: FaceChipDetails(landmarks: landmarks, size: 20, padding: 0.25),
                                photoWidth: 70, photoHeight: 60)
        return (ChipWarp(plan: plan), photo)
    }

    func testPlanHalvesOnce() {
        XCTAssertEqual(smallWarp().0.plan.pyramidLevels, 1)
    }

    func testBackwardIsTheTransposeOfForward() {
        let (warp, photo) = smallWarp()
        var rng = SplitMix(seed: 11)
        let y = FloatRGBImage(width: 20, height: 20, values: (0..<1200).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 })
        let lhs = zip(warp.forward(photo).values, y.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let back = warp.backward(y, photoWidth: 70, photoHeight: 60)
        let rhs = zip(photo.values, back.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * abs(lhs))
        XCTAssertNotEqual(lhs, 0)
    }

    func testGradientMatchesFiniteDifferences() {
        let (warp, photo) = smallWarp()
        // Loss = sum(w * chip^2 / 2): gradient w * chip through the warp's adjoint.
        var rng = SplitMix(seed: 3)
        let weights = (0..<1200).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        func loss(_ p: FloatRGBImage) -> Double {
            zip(warp.forward(p).values, weights).reduce(0.0) { $0 + Double($1.1) * Double($1.0) * Double($1.0) / 2 }
        }
        let chip = warp.forward(photo)
        let chipGrad = FloatRGBImage(width: 20, height: 20, values: zip(chip.values, weights).map { $0 * $1 })
        let grad = warp.backward(chipGrad, photoWidth: 70, photoHeight: 60)
        let box = warp.plan.region
        var tested = 0
        for (x, y) in [(box.left + 10, box.top + 12), (box.left + 20, box.top + 20), (box.left + 5, box.top + 30), (box.left + 25, box.top + 9)] {
            for ch in 0..<3 {
                let i = (y * 70 + x) * 3 + ch
                var plus = photo, minus = photo
                // The loss is quadratic, so a central difference is exact for any step; a large step keeps
                // float rounding in the chip small against the change.
                plus.values[i] += 8
                minus.values[i] -= 8
                let numeric = (loss(plus) - loss(minus)) / 16
                XCTAssertEqual(Double(grad.values[i]), numeric, accuracy: 1e-3 * max(1, abs(numeric)), "pixel (\(x), \(y)) ch \(ch)")
                if grad.values[i] != 0 { tested += 1 }
            }
        }
        XCTAssertGreaterThan(tested, 6, "finite-difference probes should hit pixels the chip depends on")
        // Pixels outside the region get no gradient.
        XCTAssertEqual(grad.values[0], 0)
    }

    func testFloatChipAgreesWithDlibChip() throws {
        guard let golden = FaceTestData.goldens.images.first(where: { $0.file == "obama2.jpg" }), let face = golden.faces.first else {
            return XCTFail("obama2.jpg golden missing")
        }
        let image = try FaceTestData.photo(golden.file)
        let plan = FaceChipPlan(details: FaceChipDetails(landmarks: face.points), photoWidth: image.width, photoHeight: image.height)
        XCTAssertEqual(plan.pyramidLevels, 1)
        let exact = FaceChipExtractor.chip(from: image, plan: plan)
        let float = ChipWarp(plan: plan).forward(FloatRGBImage(image))
        let diffs = zip(exact.pixels, float.values).map { Double($1) - Double($0) }
        XCTAssertLessThanOrEqual(diffs.map(abs).max()!, 2.5)
        XCTAssertGreaterThanOrEqual(diffs.min()!, -0.01, "dlib truncates, so the float chip is never lower")
    }
}

/// A tiny seeded generator for test data.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ChipWarpTests {
    func testJitterMovesTheSamplingGrid() {
        let (warp, photo) = smallWarp()
        XCTAssertEqual(warp.jittered(shiftX: 0, shiftY: 0, scale: 1, rotation: 0).forward(photo), warp.forward(photo))
        // Shifting by one chip pixel samples what the neighbouring chip pixel sampled.
        let shifted = warp.jittered(shiftX: 1, shiftY: 0, scale: 1, rotation: 0).forward(photo)
        let plain = warp.forward(photo)
        for r in 3..<17 {
            for c in 3..<16 {
                for ch in 0..<3 {
                    XCTAssertEqual(shifted.values[(r * 20 + c) * 3 + ch], plain.values[(r * 20 + c + 1) * 3 + ch], accuracy: 1e-3)
                }
            }
        }
        // A rotation keeps the centre fixed.
        let rotated = warp.jittered(shiftX: 0, shiftY: 0, scale: 1.05, rotation: 0.07)
        let centre = FacePoint(x: 9.5, y: 9.5)
        let a = rotated.chipToLevel.apply(centre), b = warp.chipToLevel.apply(centre)
        XCTAssertEqual(a.x, b.x, accuracy: 1e-9)
        XCTAssertEqual(a.y, b.y, accuracy: 1e-9)
    }
}

extension ChipWarpTests {
    func testDescriptorInputIsPlanarCentredAndScaled() {
        let chip = FloatRGBImage(width: 2, height: 1, values: [122.782 + 256, 117.001, 104.298 - 128, 0, 255, 10])
        let mean = RGBMean(red: 122.782, green: 117.001, blue: 104.298)
        let input = DescriptorInput.tensor(from: chip, mean: mean)
        XCTAssertEqual(input[0], 1, accuracy: 1e-5)                       // red of pixel 0
        XCTAssertEqual(input[1], -122.782 / 256, accuracy: 1e-5)           // red of pixel 1
        XCTAssertEqual(input[2], 0, accuracy: 1e-5)                       // green of pixel 0
        XCTAssertEqual(input[4], -0.5, accuracy: 1e-5)                    // blue of pixel 0
        // The gradient map is the transpose of the linear part: <A x, y> == <x, A^T y>.
        let y: [Float] = [0.3, -1, 2, 0.5, -0.25, 4]
        let back = DescriptorInput.chipGradient(fromInputGradient: y, width: 2, height: 1)
        let zero = DescriptorInput.tensor(from: FloatRGBImage(width: 2, height: 1), mean: mean)
        let lhs = zip(zip(input, zero).map { $0 - $1 }, y).reduce(0) { $0 + $1.0 * $1.1 }
        let rhs = zip(chip.values, back.values).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
    }
}
