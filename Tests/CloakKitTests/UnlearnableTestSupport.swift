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

/// 64 random 8x8 grey images with labels 0-3 in turn, which only noise can make learnable, set up for a few
/// rounds of noise search: eps 16/255, step 2/255, batch 32, all images generating, surrogate lr 0.05.
func randomLabelProblem(mode: UnlearnableSettings.Mode, pixelSeed: UInt64,
                        configure: (inout UnlearnableSettings) -> Void) -> ErrorMinimizingNoise {
    var g = SplitMix64(seed: pixelSeed)
    let n = 64, size = 8 * 8
    let pixels = (0..<(n * size)).map { _ in Float(g.next() % 256) / 255 }
    let data = LabelledImages(pixels: pixels, labels: (0..<n).map { $0 % 4 }, height: 8, width: 8, channels: 1)
    var settings = UnlearnableSettings(mode: mode)
    settings.epsilon = 16
    settings.stepSize = 2
    settings.batchSize = 32
    settings.subset = 1
    settings.learningRate = 0.05
    configure(&settings)
    var mg = SplitMix64(seed: 4)
    let model = SmallCNN(inputChannels: 1, classCount: 4, widths: [8, 16, 16], using: &mg)
    return ErrorMinimizingNoise(settings: settings, data: data, classCount: 4, model: model,
                                optimizer: SGD(learningRate: 0.05, momentum: 0.9), generationIndices: Array(0..<n))
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
