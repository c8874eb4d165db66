import CloakDatasetProtection
import CloakNN
import CloakTensor
import Testing

@Suite("Countermeasures: the median filter and bit-depth reduction")
struct ImageFilterCountermeasureTests {
    @Test func theMedianRemovesAnIsolatedPixelAndReplicatesTheBorder() {
        // 4x3 grey image: one bright pixel in a dark field, a dark row at the bottom
        let levels: [Float] = [10, 10, 10, 10,
                               10, 250, 10, 10,
                               0, 0, 0, 0].map { $0 / 255 }
        let out = ImageFilters.median3x3(levels, height: 3, width: 4, channels: 1).map { Int(($0 * 255).rounded()) }
        #expect(out == [10, 10, 10, 10,
                        10, 10, 10, 10,
                        0, 0, 0, 0], "\(out)")
        // Per channel: a colour image's channels are filtered independently
        let rgb: [Float] = (0..<9).flatMap { p -> [Float] in p == 4 ? [1, 0, 0.5] : [0, 1, 0.5] }
        let filtered = ImageFilters.median3x3(rgb, height: 3, width: 3, channels: 3)
        #expect(Array(filtered[12..<15]) == [0, 1, 0.5])
    }

    @Test func bitDepthReductionKeepsTheTopFourBits() {
        let levels: [Float] = [0, 15, 16, 31, 200, 255, 8].map { $0 / 255 }
        let out = ImageFilters.reducedBitDepth(levels, height: 1, width: 7, channels: 1).map { Int(($0 * 255).rounded()) }
        #expect(out == [0, 0, 16, 16, 192, 240, 0])
        // An 8-level perturbation of a mid-grey pixel mostly vanishes: 128 + d for d in 0..<8 all read 128
        #expect(Set((0..<8).map { ImageFilters.reducedBitDepth([Float(128 + $0) / 255], height: 1, width: 1, channels: 1)[0] }).count == 1)
    }

    @Test func theCountermeasuresApplyToEveryImageOnce() throws {
        let pixels: [Float] = [0, 1, 0, 0, 0, 0, 0, 0, 0] + [0.5, 0.5, 0.5, 0.5, 0.9, 0.5, 0.5, 0.5, 0.5]
        let data = LabelledImages(pixels: pixels, labels: [0, 1], height: 3, width: 3, channels: 1)
        #expect(try Countermeasure.median.prepare(data).pixels == [Float](repeating: 0, count: 9) + [Float](repeating: 0.5, count: 9))
        #expect(try Countermeasure.bitdepth.prepare(data).pixels.allSatisfy { [0, 112, 128, 224, 240].contains(Int(($0 * 255).rounded())) })
        #expect(Countermeasure.allCases.map(\.rawValue) == ["none", "jpeg10", "grayscale", "augment", "adversarial", "median", "bitdepth"])
    }
}
