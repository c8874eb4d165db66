import CloakFace
import Foundation
import XCTest

/// Every dlib model file parses to its last byte; damaged copies fail with a clear error.
final class DlibModelFileTests: XCTestCase {
    func testResNetDescriptorNetwork() throws {
        let net = try DlibNetwork.load(path: try FaceTestData.model(FaceTestData.resnetFile))
        XCTAssertEqual(net.loss, .metric(margin: 0.04, distanceThreshold: 0.6))
        guard case .rgbImageSized(let mean, 150, 150) = net.input else { return XCTFail("input \(net.input)") }
        XCTAssertEqual(mean.red, 122.782, accuracy: 1e-3)
        XCTAssertEqual(mean.green, 117.001, accuracy: 1e-3)
        XCTAssertEqual(mean.blue, 104.298, accuracy: 1e-3)
        XCTAssertEqual(net.layers.count, 130)
        XCTAssertEqual(net.parameterCount, 5_614_592)
        let convs = net.layers.compactMap { if case .convolution(let c) = $0 { c } else { nil } }
        XCTAssertEqual(convs.count, 29)
        XCTAssertEqual(convs.first.map { [$0.filterCount, $0.inputChannels, $0.kernelRows, $0.strideY, $0.paddingY] }, [32, 3, 7, 2, 0])
        XCTAssertEqual(convs.map(\.filterCount).max(), 256)
        for c in convs where c.kernelRows == 3 {
            XCTAssertEqual(c.paddingY, c.strideY == 1 ? 1 : 0, "3x3 stride-\(c.strideY) conv padding")
        }
        guard case .fullyConnected(let fc) = net.layers.last else { return XCTFail("top layer \(String(describing: net.layers.last))") }
        XCTAssertEqual([fc.inputs, fc.outputs], [256, 128])
        XCTAssertNil(fc.bias)
        guard case .avgPool(let pool) = net.layers[net.layers.count - 2] else { return XCTFail("no global pool") }
        XCTAssertTrue(pool.isGlobal)
        XCTAssertEqual(net.layers.filter { $0 == .tagOrSkip }.count, 22)  // the '1's of the notes' version string
        XCTAssertEqual(net.layers.filter { $0 == .addPrevious }.count, 14)  // 3 + 4 + 3 + 3 + 1 residual blocks
    }

    func testMMODDetectorNetwork() throws {
        let net = try DlibNetwork.load(path: try FaceTestData.model(FaceTestData.mmodFile))
        guard case .mmod(let options) = net.loss else { return XCTFail("loss \(net.loss)") }
        XCTAssertEqual([options.windowWidth, options.windowHeight], [80, 80])
        XCTAssertEqual(options.nonMaxSuppression.coveredThreshold, 1)
        guard case .rgbImagePyramid = net.input else { return XCTFail("input \(net.input)") }
        let convs = net.layers.compactMap { if case .convolution(let c) = $0 { c } else { nil } }
        XCTAssertEqual(convs.map(\.filterCount), [16, 32, 32, 45, 45, 45, 1])
        XCTAssertEqual(convs.last.map { [$0.kernelRows, $0.kernelColumns, $0.inputChannels] }, [9, 9, 45])
        let norms = net.layers.compactMap { if case .batchNorm(let b) = $0 { b } else { nil } }
        XCTAssertEqual(norms.count, 6)
        let folded = norms[0].folded
        XCTAssertEqual(folded.gamma.count, 16)
        XCTAssertEqual(Double(folded.gamma[0]),
                       Double(norms[0].gamma[0]) / (Double(norms[0].runningVariances[0]) + norms[0].epsilon).squareRoot(),
                       accuracy: 1e-5 * Double(abs(folded.gamma[0])))
    }

    func testShapePredictorFile() throws {
        let predictor = try FaceTestData.predictor()
        XCTAssertEqual(predictor.pointCount, 5)
        XCTAssertEqual(predictor.forests.count, 15)
        XCTAssertTrue(predictor.forests.allSatisfy { $0.count == 500 })
        XCTAssertTrue(predictor.forests.joined().allSatisfy { $0.splits.count == 15 && $0.leaves.count == 16 })
        XCTAssertTrue(predictor.anchors.allSatisfy { $0.count == 800 })
    }

    func testHOGDetectorFile() throws {
        let detector = try FaceTestData.detector()
        XCTAssertEqual(detector.filters.count, 5)
        XCTAssertEqual([detector.cellSize, detector.windowWidth, detector.windowHeight, detector.padding], [8, 80, 80, 0])
        XCTAssertEqual([detector.filterRows, detector.filterColumns], [10, 10])
        XCTAssertTrue(detector.filters.allSatisfy { $0.weights.count == 3100 })
    }

    // MARK: - Damaged copies

    private func damagedCopy(of name: String, _ damage: (inout [UInt8]) -> Void) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try FaceTestData.model(name))))
        damage(&bytes)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cloak-damaged-\(UUID().uuidString)-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testTruncatedFilesFailNamingFileAndOffset() throws {
        for (name, load) in [(FaceTestData.mmodFile, { (p: String) in _ = try DlibNetwork.load(path: p) }),
                             (FaceTestData.hogFile, { (p: String) in _ = try HOGFaceDetector(contentsOf: p) })] {
            let path = try damagedCopy(of: name) { $0.removeLast(1000) }
            XCTAssertThrowsError(try load(path)) { error in
                guard case .unexpectedEnd(let p, _, let expected)? = error as? DlibFormatError else {
                    return XCTFail("\(name): \(error)")
                }
                XCTAssertEqual(p, path)
                XCTAssertFalse(expected.isEmpty)
                XCTAssertTrue((error as? LocalizedError)?.errorDescription?.hasPrefix(path + ": file ends at byte") ?? false)
            }
        }
    }

    func testCorruptedAndExtendedFilesFail() throws {
        // The first layer's type string "con_4" (length byte 01 05 before it) becomes "con_9".
        var typeOffset = 0
        let wrongLayer = try damagedCopy(of: FaceTestData.mmodFile) { bytes in
            let pattern = Array("con_4".utf8)
            let at = (0..<(bytes.count - 5)).first { Array(bytes[$0..<($0 + 5)]) == pattern }!
            bytes[at + 4] = UInt8(ascii: "9")
            typeOffset = at - 2
        }
        XCTAssertThrowsError(try DlibNetwork.load(path: wrongLayer)) { error in
            guard case .invalid(_, let offset, let expected, let found)? = error as? DlibFormatError else { return XCTFail("\(error)") }
            XCTAssertEqual(offset, typeOffset)
            XCTAssertTrue(expected.hasPrefix("layer type"), expected)
            XCTAssertEqual(found, "\"con_9\"")
        }
        let extended = try damagedCopy(of: FaceTestData.hogFile) { $0.append(0) }
        XCTAssertThrowsError(try HOGFaceDetector(contentsOf: extended)) { error in
            XCTAssertEqual(error as? DlibFormatError, .trailingBytes(path: extended, offset: 155_005, count: 1))
        }
        let wrongVersion = try damagedCopy(of: FaceTestData.landmarksFile) { $0[1] = 2 }
        XCTAssertThrowsError(try ShapePredictor(contentsOf: wrongVersion)) { error in
            XCTAssertEqual(error as? DlibFormatError,
                           .invalid(path: wrongVersion, offset: 0, expected: "shape_predictor version = 1", found: "2"))
        }
    }
}
