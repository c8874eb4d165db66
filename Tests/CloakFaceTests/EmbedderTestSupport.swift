import CloakFace
import CloakImage
import Foundation
import XCTest

/// The embedder and the stride-chip goldens (`strideChip` in `face_goldens.json`) for the embedder and
/// cloak tests.
enum EmbedderTestData {
    /// Loaded once per test process (building the network takes a moment). Tests run serially in one
    /// process, and each use finishes its forward/backward before the next starts.
    nonisolated(unsafe) static var cachedEmbedder: FaceEmbedder?

    static func embedder() throws -> FaceEmbedder {
        if let cachedEmbedder { return cachedEmbedder }
        let e = try FaceEmbedder(contentsOf: try FaceTestData.model(FaceTestData.resnetFile))
        cachedEmbedder = e
        return e
    }

    /// A 150x150 chip copied from the photo without interpolation, as `make_face_goldens.py` makes it:
    /// chip pixel `(c, r)` is photo pixel `(left + stride * c, top + stride * r)`, clamped to the photo.
    struct StrideChip: Decodable {
        var left: Int
        var top: Int
        var stride: Int
        var descriptor: [Float]

        func chip(from photo: RGBImage) -> RGBImage {
            var pixels = [UInt8](repeating: 0, count: 150 * 150 * 3)
            for r in 0..<150 {
                let y = min(max(top + stride * r, 0), photo.height - 1)
                for c in 0..<150 {
                    let x = min(max(left + stride * c, 0), photo.width - 1)
                    for ch in 0..<3 { pixels[(r * 150 + c) * 3 + ch] = photo.pixels[(y * photo.width + x) * 3 + ch] }
                }
            }
            return RGBImage(width: 150, height: 150, pixels: pixels)
        }
    }

    private struct Fixture: Decodable {
        struct Face: Decodable { var strideChip: StrideChip }
        struct Image: Decodable { var file: String; var faces: [Face] }
        var images: [Image]
    }

    /// Per photo file, the stride chips of its faces in fixture order.
    static let strideChips: [(file: String, chips: [StrideChip])] = {
        let url = FaceTestData.fixturesDirectory.appendingPathComponent("face_goldens.json")
        do {
            let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
            return fixture.images.map { ($0.file, $0.faces.map(\.strideChip)) }
        } catch {
            preconditionFailure("cannot read strideChip goldens from \(url.path): \(error)")
        }
    }()
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func euclideanDistance(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
}
