import CloakFace
import CloakImage
import CloakNN
import CloakTensor
import XCTest

/// The cloak's differentiable RGB DSSIM: value as `ImageMetrics.ssim`, gradient against finite differences.
final class ColourDissimilarityTests: XCTestCase {
    private func images(width: Int, height: Int, seed: UInt64) -> (RGBImage, RGBImage) {
        var generator = SplitMix64(seed: seed)
        var a = [UInt8](), b = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let base = 100 + 60 * sin(Double(x) / 7 + Double(c)) * cos(Double(y) / 5)
                    let v = UInt8(clamping: Int(base))
                    a.append(v)
                    b.append(UInt8(clamping: Int(v) + Int.random(in: -12...12, using: &generator)))
                }
            }
        }
        return (RGBImage(width: width, height: height, pixels: a), RGBImage(width: width, height: height, pixels: b))
    }

    func testValueMatchesImageMetrics() {
        let (a, b) = images(width: 47, height: 33, seed: 1)
        let dssim = ColourDissimilarity(reference: FloatRGBImage(a)).dissimilarity(FloatRGBImage(b))
        XCTAssertEqual(dssim, (1 - ImageMetrics.ssim(a, b)) / 2, accuracy: 1e-6)
        XCTAssertEqual(ColourDissimilarity(reference: FloatRGBImage(a)).dissimilarity(FloatRGBImage(a)), 0, accuracy: 1e-7)
    }

    func testGradientMatchesFiniteDifferences() {
        let (a, b) = images(width: 29, height: 23, seed: 2)
        let measure = ColourDissimilarity(reference: FloatRGBImage(a))
        let x = FloatRGBImage(b)
        let (_, gradient) = measure.dissimilarityAndGradient(x)
        var generator = SplitMix64(seed: 3)
        let direction = x.values.map { _ in Float(Bool.random(using: &generator) ? 1 : -1) }
        let h: Float = 0.25
        var plus = x, minus = x
        for i in x.values.indices { plus.values[i] += h * direction[i]; minus.values[i] -= h * direction[i] }
        let numeric = (measure.dissimilarity(plus) - measure.dissimilarity(minus)) / Double(2 * h)
        let analytic = zip(gradient.values, direction).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        XCTAssertEqual(numeric, analytic, accuracy: 0.01 * abs(analytic) + 1e-7)
        for i in [0, 301, 777, 1500, x.values.count - 1] {
            var p = x, m = x
            p.values[i] += 0.5; m.values[i] -= 0.5
            let numeric = measure.dissimilarity(p) - measure.dissimilarity(m)
            XCTAssertEqual(numeric, Double(gradient.values[i]), accuracy: 0.02 * abs(Double(gradient.values[i])) + 2e-7,
                           "value \(i)")
        }
    }
}
