import CloakDatasetProtection
import CloakSupport
import CloakData
import CloakImage
import CloakNN
import CloakTensor
import CloakTestSupport
import Foundation
@testable import CloakKit

func temporaryFolder() throws -> String {
    try TestFolders.make("kit")
}

/// A small labelled ImageFolder of grey 12x12 PNGs: each class has its own bar orientation plus noise.
func makeTinyFolder(classes: Int = 3, perClass: Int = 8, size: Int = 12, seed: UInt64 = 1) throws -> String {
    let root = try temporaryFolder() + "/train"
    var generator = SplitMix64(seed: seed)
    for c in 0..<classes {
        let folder = "\(root)/class\(c)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for i in 0..<perClass {
            var grey = [UInt8](repeating: 0, count: size * size)
            for y in 0..<size {
                for x in 0..<size {
                    let bar = (c == 0 && x == size / 2) || (c == 1 && y == size / 2) || (c == 2 && x == y)
                    let base = bar ? 200 : 40
                    grey[y * size + x] = UInt8(max(0, min(255, base + Int(generator.next() % 60) - 30)))
                }
            }
            grey[0] = 255; grey[1] = 0   // saturated pixels, to exercise clamping
            try ImageCodec.write(RGBImage(width: size, height: size, gray: grey), to: "\(folder)/\(i).png", as: .png)
        }
    }
    return root
}

/// A quiet verification of tiny folders: 2 epochs, batch 8.
func tinyVerifier(_ train: String, test: String, baseline: String?, report: String,
                  countermeasures: [Countermeasure]) -> Verifier {
    var settings = VerifySettings()
    settings.epochs = 2
    settings.batchSize = 8
    settings.countermeasures = countermeasures
    return Verifier(trainFolder: train, testFolder: test, baselineFolder: baseline, reportFolder: report,
                    settings: settings, quiet: true)
}
