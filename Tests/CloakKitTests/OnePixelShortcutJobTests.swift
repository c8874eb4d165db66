import CloakDatasetProtection
import CloakImage
import CloakStore
import CloakSupport
import Foundation
import Testing
@testable import CloakKit

@Suite("cloak unlearnable --method ops")
struct OnePixelShortcutJobTests {
    /// Every output differs from its input in exactly one pixel, the same position and colour for every image of a
    /// class; noise.json lists the pixels; no surrogate is trained or recorded.
    @Test func everyImageOfAClassGetsItsPixelAndNothingElse() throws {
        let root = try makeTinyFolder()
        let out = (root as NSString).deletingLastPathComponent + "/ops"
        var settings = UnlearnableSettings(mode: .class)
        settings.method = .ops
        let store = try ProvenanceStore()
        let summary = try UnlearnableJob(trainFolder: root, outputFolder: out, settings: settings, quiet: true)
            .run(store: store, arguments: ["cloak"])
        #expect(summary.written == 24 && summary.rounds == 0)
        #expect(UnlearnableReport.text(summary).hasPrefix("One-pixel shortcut (Wu et al., ICLR 2023"))
        let layout = try JSON.decoder.decode(OutputWriter.PixelLayout.self,
                                             from: try #require(FileManager.default.contents(atPath: out + "/noise.json")))
        #expect(layout.classes == ["class0", "class1", "class2"] && layout.pixels.count == 3)
        for (k, name) in layout.classes.enumerated() {
            for i in 0..<8 {
                let a = try ImageCodec.decode(path: "\(root)/\(name)/\(i).png").image
                let b = try ImageCodec.decode(path: "\(out)/\(name)/\(i).png").image
                let pixel = layout.pixels[k], p = pixel.row * a.width + pixel.column
                #expect(ImageMetrics.changedPixels(a, b) <= 1)
                #expect(b.pixels[3 * p] == UInt8(pixel.colour[0] * 255))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/noise.npy"))
        #expect(try store.models(runID: summary.runID).isEmpty, "no surrogate")
        // Refused: sample-wise, and with the targeted poison
        settings.mode = .sample
        #expect(throws: SettingError.self) { try settings.validate() }
    }
}
