import CloakSupport
import Foundation
import XCTest
@testable import CloakImage

final class MetricsTests: XCTestCase {
    func testKnownSmallCases() {
        let a = RGBImage(width: 1, height: 2, pixels: [0, 0, 0, 10, 10, 10])
        let b = RGBImage(width: 1, height: 2, pixels: [3, 4, 0, 10, 10, 10])
        XCTAssertEqual(ImageMetrics.linf(a, b), 4)
        XCTAssertEqual(ImageMetrics.l2(a, b), 5.0 / 255, accuracy: 1e-12)
        // MSE = 25 / 6 over six samples.
        XCTAssertEqual(ImageMetrics.psnr(a, b), 10 * log10(255.0 * 255.0 / (25.0 / 6.0)), accuracy: 1e-9)
        XCTAssertEqual(ImageMetrics.linf(a, a), 0)
        XCTAssertEqual(ImageMetrics.l2(a, a), 0)
    }

    func testIdenticalImages() {
        let img = naturalImage()
        XCTAssertEqual(ImageMetrics.psnr(img, img), .infinity)
        XCTAssertEqual(ImageMetrics.ssim(img, img), 1, accuracy: 1e-12)
        let tiny = RGBImage(width: 3, height: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18])
        XCTAssertEqual(ImageMetrics.ssim(tiny, tiny), 1, accuracy: 1e-12)
    }

    func testSSIMDecreasesWithNoise() {
        let img = naturalImage()
        var previous = 1.0
        for amplitude in [2, 8, 32, 96] {
            var seed: UInt32 = 7
            var px = img.pixels
            for i in 0..<px.count {
                seed = seed &* 1_103_515_245 &+ 12345
                let n = Int(seed >> 16) % (2 * amplitude + 1) - amplitude
                px[i] = UInt8(max(0, min(255, Int(px[i]) + n)))
            }
            let s = ImageMetrics.ssim(img, RGBImage(width: img.width, height: img.height, pixels: px))
            XCTAssertLessThan(s, previous, "amplitude \(amplitude)")
            XCTAssertGreaterThan(s, 0)
            previous = s
        }
        XCTAssertLessThan(previous, 0.5)
    }

    /// The row-streaming SSIM gives exactly what the textbook whole-plane computation gives (five filtered
    /// planes per channel, then the mean of the SSIM map), on odd sizes and on images smaller than the window.
    func testStreamingSSIMEqualsWholePlaneSSIM() {
        for (w, h) in [(37, 23), (11, 11), (5, 7), (64, 12)] {
            var seed: UInt32 = UInt32(w * 31 + h)
            var a = [UInt8](repeating: 0, count: w * h * 3), b = a
            for i in 0..<a.count {
                seed = seed &* 1_103_515_245 &+ 12345
                a[i] = UInt8((i * 7 + Int(seed >> 24)) % 256)
                b[i] = UInt8(max(0, min(255, Int(a[i]) + Int(seed >> 16 & 15) - 7)))
            }
            let x = RGBImage(width: w, height: h, pixels: a), y = RGBImage(width: w, height: h, pixels: b)
            XCTAssertEqual(ImageMetrics.ssim(x, y), wholePlaneSSIM(x, y), "\(w)x\(h)")
        }
    }

    /// SSIM as first written: every filtered plane held whole.
    private func wholePlaneSSIM(_ a: RGBImage, _ b: RGBImage) -> Double {
        let w = a.width, h = a.height
        var size = min(11, w, h)
        if size % 2 == 0 { size -= 1 }
        let r = size / 2
        let g = (-r...r).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
        let kernel = g.map { $0 / g.reduce(0, +) }
        func filter(_ p: [Double]) -> [Double] {
            let n = kernel.count, ow = w - n + 1, oh = h - n + 1
            var rows = [Double](repeating: 0, count: ow * h)
            for y in 0..<h { for x in 0..<ow { var s = 0.0; for j in 0..<n { s += kernel[j] * p[y * w + x + j] }; rows[y * ow + x] = s } }
            var out = [Double](repeating: 0, count: ow * oh)
            for y in 0..<oh { for x in 0..<ow { var s = 0.0; for j in 0..<n { s += kernel[j] * rows[(y + j) * ow + x] }; out[y * ow + x] = s } }
            return out
        }
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var total = 0.0
        for c in 0..<3 {
            let x = (0..<(w * h)).map { Double(a.pixels[3 * $0 + c]) }, y = (0..<(w * h)).map { Double(b.pixels[3 * $0 + c]) }
            let mx = filter(x), my = filter(y)
            let sxx = filter(zip(x, x).map(*)), syy = filter(zip(y, y).map(*)), sxy = filter(zip(x, y).map(*))
            var sum = 0.0
            for i in 0..<mx.count {
                let vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i]
                sum += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
            total += sum / Double(mx.count)
        }
        return total / 3
    }

    /// A constant shift changes only the luminance term: SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1).
    func testSSIMOfConstantImagesMatchesFormula() {
        let a = RGBImage(width: 12, height: 12, fill: (100, 100, 100))
        let b = RGBImage(width: 12, height: 12, fill: (110, 110, 110))
        let c1 = (0.01 * 255) * (0.01 * 255)
        XCTAssertEqual(ImageMetrics.ssim(a, b), (2 * 100 * 110 + c1) / (100 * 100 + 110 * 110 + c1), accuracy: 1e-9)
    }
}

final class WriteTests: XCTestCase {
    func testWriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        let dir = try temporaryDirectory(self)
        let p = dir + "/out.png"
        let img = naturalImage(width: 10, height: 10)
        try ImageCodec.write(img, to: p, as: .png)
        XCTAssertEqual(try ImageCodec.decode(path: p).image, img)
        // Overwrite in place: the old file is replaced whole.
        let img2 = RGBImage(width: 4, height: 4, fill: (1, 2, 3))
        try ImageCodec.write(img2, to: p, as: .png)
        XCTAssertEqual(try ImageCodec.decode(path: p).image, img2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"])
    }

    func testCreateParentDirectories() throws {
        let dir = try temporaryDirectory(self)
        let p = dir + "/a/b/c.jpg"
        XCTAssertThrowsError(try ImageCodec.write(naturalImage(), to: p, as: .jpeg)) {
            guard case .writeFailed(let path, _)? = $0 as? FileWriteError else { return XCTFail("not a write failure: \($0)") }
            XCTAssertEqual(path, p)
        }
        try ImageCodec.write(naturalImage(), to: p, as: .jpeg, createParentDirectories: true)
        XCTAssertEqual(try ImageCodec.readHeader(path: p), ImageHeader(format: .jpeg, width: 96, height: 64))
    }

    func testFormatFromExtension() {
        XCTAssertEqual(ImageFormat(pathExtension: "x/photo.JPG"), .jpeg)
        XCTAssertEqual(ImageFormat(pathExtension: "a.jpeg"), .jpeg)
        XCTAssertEqual(ImageFormat(pathExtension: "png"), .png)
        XCTAssertEqual(ImageFormat(pathExtension: "a.Png"), .png)
        XCTAssertNil(ImageFormat(pathExtension: "a.gif"))
        XCTAssertNil(ImageFormat(pathExtension: "README"))
    }
}
