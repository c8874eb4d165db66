import CloakFace
import CloakImage
import CloakNN
import CloakTensor
import XCTest

/// The face descriptor network against real dlib (`face_goldens.json`, from dlib-bin 20.0.1).
final class FaceEmbedderTests: XCTestCase {
    func testNetworkShape() throws {
        let embedder = try EmbedderTestData.embedder()
        XCTAssertEqual(embedder.chipSize, 150)
        XCTAssertEqual(embedder.descriptorLength, 128)
        XCTAssertEqual(embedder.distanceThreshold, 0.6, accuracy: 1e-6)
        XCTAssertEqual(embedder.mean.red, 122.782, accuracy: 1e-3)
        // 29 convolutions: the stem and two per residual block.
        let convolutions = embedder.network.parameters.filter { $0.name.hasSuffix("weight") && $0.parameter.value.shape.count == 4 }
        XCTAssertEqual(convolutions.count, 29)
        XCTAssertEqual(embedder.network.parameterCount, 5_614_592)
        XCTAssertTrue(embedder.network.parameters.allSatisfy { !$0.parameter.requiresGradient })
    }

    /// Chips copied from the photos pixel for pixel (no interpolation), so both sides see identical input.
    func testDescriptorsOfGivenChipsMatchDlib() throws {
        let embedder = try EmbedderTestData.embedder()
        var chips: [RGBImage] = [], expected: [[Float]] = []
        for (file, strideChips) in EmbedderTestData.strideChips {
            let photo = try FaceTestData.photo(file)
            for s in strideChips {
                chips.append(s.chip(from: photo))
                expected.append(s.descriptor)
            }
        }
        XCTAssertEqual(chips.count, 7)
        let ours = embedder.descriptors(of: chips.map(FloatRGBImage.init)).scalars
        var worst: Float = 0
        for (i, e) in expected.enumerated() {
            let d = maxAbsDifference(Array(ours[(i * 128)..<((i + 1) * 128)]), e)
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1e-3, "chip \(i): descriptor max |diff| \(d)")
        }
        print("FaceEmbedderTests: stride-chip descriptors max |diff| vs dlib \(worst)")
    }

    /// Aligned chips cut by FaceChipExtractor (from dlib's landmarks) against dlib's descriptors of dlib's
    /// own chips (measured: equal to 3e-7).
    func testDescriptorsOfAlignedChipsMatchDlib() throws {
        let embedder = try EmbedderTestData.embedder()
        var worstAbs: Float = 0, worstDistance: Float = 0
        for golden in FaceTestData.goldens.images {
            let photo = try FaceTestData.photo(golden.file)
            for face in golden.faces {
                let chip = FaceChipExtractor.chip(from: photo, landmarks: face.points)
                let ours = embedder.descriptor(of: chip)
                let d = maxAbsDifference(ours, face.descriptor), distance = euclideanDistance(ours, face.descriptor)
                worstAbs = max(worstAbs, d)
                worstDistance = max(worstDistance, distance)
                XCTAssertLessThanOrEqual(d, 1e-3, "\(golden.file): aligned-chip descriptor max |diff| \(d)")
            }
        }
        print("FaceEmbedderTests: aligned-chip descriptors max |diff| \(worstAbs), max distance \(worstDistance)")
    }

    /// The chip gradient against central differences of `L = <descriptor, r>` for a fixed random `r`, along a
    /// random direction over all pixels and on single pixels with large gradients.
    func testChipGradientMatchesFiniteDifferences() throws {
        let embedder = try EmbedderTestData.embedder()
        let (file, strideChips) = EmbedderTestData.strideChips[2]
        let chip = FloatRGBImage(strideChips[0].chip(from: try FaceTestData.photo(file)))
        var generator = SplitMix64(seed: 7)
        let r = (0..<128).map { _ in Float.random(in: -1...1, using: &generator) }
        func loss(_ c: FloatRGBImage) -> Double {
            zip(embedder.descriptors(of: [c]).scalars, r).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        _ = embedder.descriptors(of: [chip])
        let gradient = embedder.chipGradients(Tensor(shape: [1, 128], scalars: r))[0]

        // Directional derivative along a random +-1 direction.
        let direction = chip.values.map { _ in Float(Bool.random(using: &generator) ? 1 : -1) }
        let h: Float = 0.05
        var plus = chip, minus = chip
        for i in chip.values.indices { plus.values[i] += h * direction[i]; minus.values[i] -= h * direction[i] }
        let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
        let analytic = zip(gradient.values, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(numeric, analytic, accuracy: 0.02 * abs(analytic) + 1e-4, "directional derivative")

        // Single pixels: the five largest gradient entries.
        let largest = gradient.values.indices.sorted { abs(gradient.values[$0]) > abs(gradient.values[$1]) }.prefix(5)
        for i in largest {
            var p = chip, m = chip
            p.values[i] += 1; m.values[i] -= 1
            let numeric = (loss(p) - loss(m)) / 2
            let analytic = Double(gradient.values[i])
            XCTAssertEqual(numeric, analytic, accuracy: 0.05 * abs(analytic) + 2e-5, "pixel value \(i)")
        }
    }

    func testRejectsOtherNetworks() throws {
        let path = try FaceTestData.model(FaceTestData.mmodFile)
        XCTAssertThrowsError(try FaceEmbedder(contentsOf: path)) { error in
            guard case FaceEmbedderError.unexpectedNetwork(let p, _, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(p, path)
            XCTAssertTrue(error.localizedDescription.contains(path))
        }
    }
}
