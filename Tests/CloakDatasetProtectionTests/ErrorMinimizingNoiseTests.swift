import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakTensor
import Testing

@Suite("Error-minimising noise")
struct ErrorMinimizingNoiseTests {
    @Test func minMinLoopReducesSurrogateErrorOnRandomLabels() {
        // Random images with random labels cannot be learned from content in a few steps; the
        // error-minimising class-wise noise gives the surrogate a shortcut, so its error must fall.
        let noise = randomLabelProblem(mode: .class, pixelSeed: 3) { _ in }
        let settings = noise.settings
        let first = noise.runRound().error
        var last = first
        for _ in 0..<7 { last = noise.runRound().error }
        #expect(last < first, "surrogate error went from \(first) to \(last)")
        #expect(last < 0.4)
        // The noise stays inside the budget
        #expect(noise.noise.allSatisfy { abs($0) <= settings.epsilonUnit + 1e-7 })
    }

    @Test func visibleChangeCountsOnlyWhatTheClampLeaves() {
        // One image per class, two pixels: black (0) and mid-grey. A full-budget pattern pointing down shows
        // nothing on the black pixel; pointing up it shows in full.
        let eps = UnlearnableSettings(mode: .class).epsilonUnit
        let data = LabelledImages(pixels: [0, 0.5, 0, 0.5], labels: [0, 1], height: 1, width: 2, channels: 1)
        var mg = SplitMix64(seed: 1)
        let model = SmallCNN(inputChannels: 1, classCount: 2, widths: [4, 4, 4], using: &mg)
        let noise = ErrorMinimizingNoise(settings: UnlearnableSettings(mode: .class), data: data, classCount: 2,
                                         model: model, optimizer: SGD(learningRate: 0.1), generationIndices: [0, 1],
                                         noise: [-eps, -eps, eps, eps])
        #expect(abs(noise.budgetUse() - 1) < 1e-6)
        #expect(abs(noise.visibleChange() - 0.75) < 1e-5, "\(noise.visibleChange())")
    }

    @Test func outputClampsTheSumNeverTheNoise() {
        let image = RGBImage(width: 3, height: 1, gray: [250, 3, 200])
        let eps: Float = 8 / 255
        let out = NoisePatterns.apply([eps, -eps, -eps], channels: 1, to: image, epsilon: 8)
        #expect(out.pixels == [255, 255, 255, 0, 0, 0, 192, 192, 192])
        // Rounding never takes an output beyond floor(eps) levels
        let rounded = NoisePatterns.apply([8.49 / 255, -8.49 / 255, 0.5 / 255], channels: 1, to: image, epsilon: 8.49)
        #expect(ImageMetrics.linf(image, rounded) <= 8)
    }

    @Test func aGreyImageStaysGreyUnderColourNoise() {
        let grey = RGBImage(width: 2, height: 1, gray: [100, 250])
        let colourNoise: [Float] = [6, -3, 0, 8, 8, 8].map { $0 / 255 }
        let out = NoisePatterns.apply(colourNoise, channels: 3, to: grey, epsilon: 8)
        #expect(out.isGrayscale && out.pixels == [101, 101, 101, 255, 255, 255])   // the channels' mean, 1 level
        // A colour image gets each channel's own noise
        let colour = RGBImage(width: 2, height: 1, pixels: [100, 100, 101, 250, 250, 250])
        #expect(NoisePatterns.apply(colourNoise, channels: 3, to: colour, epsilon: 8).pixels == [106, 97, 101, 255, 255, 255])
    }
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

