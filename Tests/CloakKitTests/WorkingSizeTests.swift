import CloakDatasetProtection
import CloakSupport
import CloakData
import CloakImage
import CloakStore
import Foundation
import Testing
@testable import CloakKit

@Suite("Working size and memory of a job")
struct WorkingSizeTests {
    /// Two classes of `perClass` RGB photos of `width x height`, each class a different colour ramp.
    func photoFolder(width: Int, height: Int, perClass: Int = 3) throws -> String {
        let root = try temporaryFolder() + "/photos"
        for c in 0..<2 {
            try FileManager.default.createDirectory(atPath: "\(root)/class\(c)", withIntermediateDirectories: true)
            for i in 0..<perClass {
                var image = RGBImage(width: width, height: height)
                for p in 0..<(width * height) {
                    let ramp = UInt8((p % width) * 200 / width + i * 10)
                    image.pixels[3 * p + c] = ramp
                    image.pixels[3 * p + 2] = UInt8((p / width) * 255 / height)
                }
                try ImageCodec.write(image, to: "\(root)/class\(c)/\(i).png", as: .png)
            }
        }
        return root
    }

    @Test func largeImagesWorkScaledDownAndOutputsKeepTheirOwnSize() throws {
        let root = try photoFolder(width: 600, height: 400)
        let folder = try ImageFolder(root: root)
        let chosen = try #require(WorkingSize.choose(requested: nil, folder: folder, indices: Array(folder.samples.indices)))
        #expect(chosen.size == (224, 149))
        #expect(chosen.note?.contains("(the first is 600x400); working at 224x149") == true)
        #expect(WorkingSize.choose(requested: (40, 30), folder: folder, indices: [0])!.size == (40, 30))

        var settings = UnlearnableSettings(mode: .class)
        settings.trainSteps = 1
        settings.batchSize = 4
        settings.subset = 1
        settings.stopError = 0.99
        let out = try temporaryFolder() + "/cloaked"
        let summary = try UnlearnableJob(trainFolder: root, outputFolder: out, settings: settings, quiet: true)
            .run(store: try ProvenanceStore(), arguments: ["cloak"])
        #expect((summary.width, summary.height, summary.written) == (224, 149, 6))
        for c in 0..<2 {
            let written = try ImageCodec.decode(path: "\(out)/class\(c)/0.png").image
            let original = try ImageCodec.decode(path: "\(root)/class\(c)/0.png").image
            #expect((written.width, written.height) == (600, 400))
            #expect(ImageMetrics.linf(original, written) <= 8)
        }
    }

    @Test func smallImagesKeepTheirOwnSize() throws {
        let root = try photoFolder(width: 224, height: 60, perClass: 1)
        let folder = try ImageFolder(root: root)
        let chosen = try #require(WorkingSize.choose(requested: nil, folder: folder, indices: [0, 1]))
        #expect(chosen.size == (224, 60) && chosen.note == nil)
    }

    @Test func aJobThatWouldNotFitIsRefusedWithWhatToLower() throws {
        // Fashion-MNIST, class-wise, on 24 GB: about 0.2 + 0.8 GB
        try WorkingSize.check(images: 60_000, size: (28, 28), batch: 512, model: .small, noiseCopies: 0, path: "fm",
                              memory: 24 << 30)
        // 4-megapixel photos at their own size: a batch of 6 alone needs about 50 GB
        let huge = #expect(throws: WorkingSizeError.self) {
            try WorkingSize.check(images: 6, size: (2000, 2000), batch: 512, model: .small, noiseCopies: 0, path: "photos",
                                  memory: 24 << 30)
        }
        let message = huge?.errorDescription ?? ""
        #expect(message.hasPrefix("photos: 6 images at 2000x2000 in batches of 6 need about 49.8 GB"), "\(message)")
        #expect(message.hasSuffix("lower `batchSize` to 2 or less, or `size`"), "\(message)")
        // Too many images for memory whatever the batch: only fewer or smaller images help
        let many = #expect(throws: WorkingSizeError.self) {
            try WorkingSize.check(images: 2_000_000, size: (224, 224), batch: 64, model: .small, noiseCopies: 2,
                                  path: "big", memory: 24 << 30)
        }
        #expect(many?.errorDescription?.hasSuffix("lower `size`, or use fewer images (`limitPerClass`)") == true)
    }
}
