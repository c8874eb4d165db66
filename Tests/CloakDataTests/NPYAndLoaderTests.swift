import CloakSupport
import CloakImage
import Foundation
import Testing
@testable import CloakData

@Suite("NumPy files, resizing and loading image folders")
struct NPYAndLoaderTests {
    @Test func npyRoundTripsAndHasNumPysExactHeader() throws {
        let values: [Float] = (0..<24).map { Float($0) * 0.5 - 3 }
        let bytes = NPYFile.encode(values, shape: [2, 3, 4])
        // NumPy's own header for this array, as numpy.save writes it (total header 128 bytes = 2 x 64)
        let expected = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }"
        let header = String(decoding: bytes[10..<(10 + Int(bytes[8]))], as: UTF8.self)
        #expect(header.hasPrefix(expected) && header.hasSuffix("\n"))
        #expect((10 + Int(bytes[8])) % 64 == 0)
        #expect(bytes.count == 10 + Int(bytes[8]) + 96)
        let back = try NPYFile.decode(bytes, path: "x.npy")
        #expect(back.values == values && back.shape == [2, 3, 4])
        #expect(throws: DatasetError.self) { try NPYFile.decode(Array(bytes.dropLast()), path: "x.npy") }
    }

    @Test func bilinearKeepsSizeAndBoundsAndInterpolates() {
        let src: [Float] = [0, 1, 2, 3]   // 2x2, one channel
        #expect(Resize.bilinear(src, width: 2, height: 2, channels: 1, toWidth: 2, toHeight: 2) == src)
        let up = Resize.bilinear(src, width: 2, height: 2, channels: 1, toWidth: 4, toHeight: 4)
        // PyTorch F.interpolate(mode="bilinear", align_corners=False) gives this first row
        #expect(up[0..<4] == [0, 0.25, 0.75, 1])
        #expect(up.allSatisfy { $0 >= 0 && $0 <= 3 })
    }

    @Test func areaAveragesExactlyOnIntegerFactors() {
        let src: [Float] = [1, 3, 5, 7, 2, 4, 6, 8]   // 4x2, one channel
        let out = Resize.area(src, width: 4, height: 2, channels: 1, toWidth: 2, toHeight: 1)
        #expect(out == [2.5, 6.5])
        let third = Resize.area([0, 3, 6], width: 3, height: 1, channels: 1, toWidth: 2, toHeight: 1)
        #expect(abs(third[0] - 1) < 1e-6 && abs(third[1] - 5) < 1e-6)
    }

    @Test func imageFolderLoadsGreyAndColourAndRecordsFailures() throws {
        let dir = try temporaryDirectory()
        for cls in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(cls)", withIntermediateDirectories: true)
        }
        let grey = RGBImage(width: 4, height: 2, gray: [0, 51, 102, 153, 204, 255, 0, 0])
        try ImageCodec.write(grey, to: "\(dir)/a/1.png", as: .png)
        try ImageCodec.write(RGBImage(width: 8, height: 4, gray: [UInt8](repeating: 255, count: 32)), to: "\(dir)/b/2.png", as: .png)
        #expect(FileManager.default.createFile(atPath: "\(dir)/b/bad.png", contents: Data("nope".utf8)))
        let folder = try ImageFolder(root: dir)
        let loaded = folder.load()
        #expect(loaded.count == 2 && loaded.channels == 1 && loaded.width == 4 && loaded.height == 2)
        #expect(loaded.labels == [0, 1])
        #expect(Array(loaded.image(0)) == [0, 0.2, 0.4, 0.6, 0.8, 1, 0, 0])
        #expect(Array(loaded.image(1)) == [Float](repeating: 1, count: 8))   // 8x4 shrunk to 4x2
        #expect(loaded.originalSizes.map(\.width) == [4, 8])
        #expect(loaded.failures.count == 1 && loaded.failures[0].path == "\(dir)/b/bad.png")
        // A colour image makes the set 3-channel
        var colour = RGBImage(width: 4, height: 2)
        colour.pixels[0] = 255
        try ImageCodec.write(colour, to: "\(dir)/b/3.png", as: .png)
        let rgb = try ImageFolder(root: dir).load()
        #expect(rgb.channels == 3 && Array(rgb.image(2))[0] == 1 && Array(rgb.image(2))[1] == 0)
        // the grey images, the one resized on arrival included, become three equal channels
        #expect(Array(rgb.image(0)) == [0, 0.2, 0.4, 0.6, 0.8, 1, 0, 0].flatMap { [$0, $0, $0] as [Float] })
        #expect(Array(rgb.image(1)) == [Float](repeating: 1, count: 24))
        // Asked for one channel, a colour image of another size becomes luma at the working size
        var big = RGBImage(width: 8, height: 4)
        for i in 0..<32 { big.pixels[3 * i + 1] = 255 }   // pure green: luma 0.587
        try ImageCodec.write(big, to: "\(dir)/b/4.png", as: .png)
        let luma = try ImageFolder(root: dir).load(channels: 1)
        #expect(luma.channels == 1 && luma.count == 4)
        #expect(luma.originalSizes[3].width == 8 && luma.originalSizes[3].height == 4)
        #expect(luma.image(3).allSatisfy { abs($0 - 0.587) < 1e-6 })
    }
}
