import CloakData
import CloakImage
import CloakNN
import CloakStore
import CloakTensor
import CloakTestSupport
import Foundation
import Testing
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

@Suite("Unlearnable examples")
struct UnlearnableTests {
    @Test(arguments: UnlearnableSettings.ClassUpdate.allCases)
    func minMinLoopReducesSurrogateErrorOnRandomLabels(_ update: UnlearnableSettings.ClassUpdate) {
        // Random images with random labels cannot be learned from content in a few steps; the
        // error-minimising class-wise noise gives the surrogate a shortcut, so its error must fall.
        let noise = randomLabelProblem(mode: .class, pixelSeed: 3) { $0.classUpdate = update }
        let settings = noise.settings
        let first = noise.runRound().error
        var last = first
        for _ in 0..<7 { last = noise.runRound().error }
        #expect(last < first, "surrogate error went from \(first) to \(last)")
        #expect(last < 0.4)
        // The noise stays inside the budget
        #expect(noise.noise.allSatisfy { abs($0) <= settings.epsilonUnit + 1e-7 })
    }

    @Test func randomStartIsSeededUniformNoiseWithinTheBudget() {
        let data = LabelledImages(pixels: [Float](repeating: 0.5, count: 4 * 16), labels: [0, 1, 0, 1], height: 4, width: 4, channels: 1)
        var settings = UnlearnableSettings(mode: .class)
        settings.randomStart = true
        func start(seed: UInt64) -> [Float] {
            settings.seed = seed
            var mg = SplitMix64(seed: 1)
            let model = SmallCNN(inputChannels: 1, classCount: 2, widths: [4, 4, 4], using: &mg)
            return ErrorMinimizingNoise(settings: settings, data: data, classCount: 2, model: model,
                                        optimizer: SGD(learningRate: 0.1), generationIndices: [0, 1, 2, 3]).noise
        }
        let a = start(seed: 7), b = start(seed: 7), c = start(seed: 8)
        #expect(a.count == 2 * 16 && a == b && a != c)
        #expect(a.allSatisfy { abs($0) <= settings.epsilonUnit })
        #expect(a.map { abs($0) }.max()! > settings.epsilonUnit / 2, "uniform over the ball, not near zero")
        settings.randomStart = nil
        #expect(start(seed: 7).allSatisfy { $0 == 0 }, "the reference's zero start is the default")
    }

    @Test func gradientClassUpdateDoesNotPushPatternsBelowBlack() {
        // Black images (x = 0): a pattern value below 0 is invisible, so the gradient update must never take
        // a pattern negative, however the loss would like it to move.
        var g = SplitMix64(seed: 9)
        let n = 32, size = 8 * 8
        let pixels = (0..<(n * size)).map { i in (i % size) % 3 == 0 ? Float(g.next() % 256) / 255 : 0 }
        let data = LabelledImages(pixels: pixels, labels: (0..<n).map { $0 % 2 }, height: 8, width: 8, channels: 1)
        var settings = UnlearnableSettings(mode: .class)
        settings.classUpdate = .gradient
        settings.batchSize = 16
        settings.subset = 1
        settings.pgdSteps = 5
        var mg = SplitMix64(seed: 2)
        let model = SmallCNN(inputChannels: 1, classCount: 2, widths: [4, 4, 4], using: &mg)
        let noise = ErrorMinimizingNoise(settings: settings, data: data, classCount: 2, model: model,
                                         optimizer: SGD(learningRate: 0.05, momentum: 0.9), generationIndices: Array(0..<n))
        for _ in 0..<3 { noise.runRound() }
        // Pixels black in every image (j % 3 != 0 here): a sign step from just above 0 may end one step below it,
        // but the pattern never keeps going down (without the clamp's mask it drifts to -eps).
        let blackEverywhere = (0..<size).filter { j in (0..<n).allSatisfy { pixels[$0 * size + j] == 0 } }
        #expect(!blackEverywhere.isEmpty)
        for c in 0..<2 {
            for j in blackEverywhere {
                #expect(noise.noise[c * size + j] >= -settings.stepUnit * 1.001, "class \(c) pixel \(j): \(noise.noise[c * size + j])")
            }
        }
        #expect(noise.noise.contains { $0 > 0 }, "the patterns still move where images can show them")
    }

    @Test(arguments: UnlearnableSettings.Mode.allCases)
    func tiledNoiseRepeatsOneTilePerPatternAndStillShortcuts(_ mode: UnlearnableSettings.Mode) {
        // Random images with random labels: only the noise can make them learnable. A 3x3 tile on 8x8 images
        // (cut off at the edges) must repeat exactly, differ between patterns, and still let the surrogate's error fall.
        let noise = randomLabelProblem(mode: mode, pixelSeed: 5) {
            $0.noiseTile = 3
            $0.pgdSteps = mode == .class ? 1 : 5
        }
        let settings = noise.settings, n = noise.data.count, side = 8, size = side * side
        let first = noise.runRound().error
        var last = first
        for _ in 0..<7 { last = noise.runRound().error }
        #expect(last < first && last < 0.4, "surrogate error went from \(first) to \(last)")
        let patterns = mode == .class ? 4 : n
        #expect(noise.noise.count == patterns * size)
        for p in 0..<patterns {
            let o = p * size
            for y in 0..<side {
                for x in 0..<side where noise.noise[o + y * side + x] != noise.noise[o + (y % 3) * side + x % 3] {
                    Issue.record("pattern \(p) at (\(x), \(y)) is not a copy of its tile")
                }
            }
        }
        #expect(noise.noise[0..<size] != noise.noise[size..<(2 * size)], "patterns differ")
        #expect(noise.noise.allSatisfy { abs($0) <= settings.epsilonUnit + 1e-7 })
        #expect(noise.noise.contains { $0 != 0 })
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

    @Test func verdictJudgesTheBestEpochNotTheLast() {
        func curve(_ a: [Double]) -> TrainingCurve { TrainingCurve(accuracies: a, trainingLosses: a.map { _ in 1 }, seconds: 1) }
        let clean = curve([0.85, 0.93, 0.90])
        // Ends near chance, but one epoch learned over half the task: a trainer who stops there has that model.
        let spiky = curve([0.55, 0.15, 0.12])
        #expect(Verdict.judge(protected: spiky.final, baseline: clean.final, chance: 0.1) == .holds)
        #expect(Verdict.judge(protected: spiky, baseline: clean, chance: 0.1) == .weakened)
        #expect(Verdict.judge(protected: curve([0.2, 0.15, 0.12]), baseline: clean, chance: 0.1) == .holds)
        #expect(Verdict.judge(protected: curve([0.3, 0.88, 0.2]), baseline: clean, chance: 0.1) == .broken)
        #expect(Verdict.judge(protected: spiky, baseline: nil, chance: 0.1) == .unknown)
    }

    @Test func verdictIsInconclusiveWhenTheBaselineBarelyBeatsChance() {
        func curve(_ a: [Double]) -> TrainingCurve { TrainingCurve(accuracies: a, trainingLosses: a.map { _ in 1 }, seconds: 1) }
        // 36 test images, 3 classes: 41.7% is 3 images above chance, well inside what chance alone gives.
        let weak = curve([0.361, 0.417]), protected = curve([0.333, 0.472])
        #expect(Verdict.judge(protected: protected, baseline: weak, chance: 1.0 / 3, testImages: 36) == .unknown)
        #expect(Verdict.judge(protected: curve([0.333]), baseline: weak, chance: 1.0 / 3, testImages: 36) == .unknown)
        #expect(Verdict.judge(protected: protected, baseline: curve([0.6]), chance: 1.0 / 3, testImages: 36) == .weakened)
        // 3 standard errors of a chance score: 23.6 points on 36 images, 0.9 on 10,000; and never under 5 points.
        #expect(Verdict.clearlyAboveChance(0.57, chance: 1.0 / 3, testImages: 36))
        #expect(!Verdict.clearlyAboveChance(0.56, chance: 1.0 / 3, testImages: 36))
        #expect(!Verdict.clearlyAboveChance(0.14, chance: 0.1, testImages: 10_000))
        #expect(Verdict.clearlyAboveChance(0.151, chance: 0.1, testImages: 10_000))
        #expect(Verdict.judge(protected: curve([0.11]), baseline: curve([0.14]), chance: 0.1, testImages: 10_000) == .unknown)

        let result = VerificationResult(
            trainDataset: "p", baselineDataset: "c", testDataset: "t", model: "small", epochs: 2, seed: 0,
            classes: ["a", "b", "c"], trainCount: 36, testCount: 36, chance: 1.0 / 3,
            rows: [CountermeasureResult(countermeasure: "none", protected: protected, baseline: weak,
                                        verdict: Verdict.judge(protected: protected, baseline: weak, chance: 1.0 / 3,
                                                               testImages: 36))])
        let markdown = VerificationReport.markdown(result)
        #expect(markdown.contains("| none | 47.2% | 47.2% | 41.7% | 41.7% | inconclusive |"), "\(markdown)")
        #expect(markdown.contains("**Inconclusive** under `none`: the clean baseline reached only 41.7% under `none` "
                                  + "against 33.3% by chance on 36 test images"), "\(markdown)")
        #expect(!markdown.contains("holds") && !markdown.contains("BROKEN"))
    }

    @Test func verdictJudgesTheBestCheckWhenCheckedWithinEpochs() {
        // Epoch ends near chance, but a check half-way through epoch 1 found a model that learned most of the task.
        let protected = TrainingCurve(accuracies: [0.2, 0.15], trainingLosses: [1, 1], seconds: 1,
                                      checkAccuracies: [[0.8, 0.2], [0.3, 0.15]])
        let clean = TrainingCurve(accuracies: [0.85, 0.9], trainingLosses: [1, 1], seconds: 1,
                                  checkAccuracies: [[0.7, 0.85], [0.88, 0.9]])
        #expect(protected.best == 0.2 && protected.bestCheck == 0.8 && clean.bestCheck == 0.9)
        #expect(Verdict.judge(protected: protected.best, baseline: clean.best, chance: 0.1) == .holds)
        #expect(Verdict.judge(protected: protected, baseline: clean, chance: 0.1) == .broken)
        let result = VerificationResult(
            trainDataset: "p", baselineDataset: "c", testDataset: "t", model: "small", epochs: 2, seed: 0,
            classes: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], trainCount: 40, testCount: 40, chance: 0.1,
            rows: [CountermeasureResult(countermeasure: "none", protected: protected, baseline: clean,
                                        verdict: Verdict.judge(protected: protected, baseline: clean, chance: 0.1))],
            checksPerEpoch: 2)
        let markdown = VerificationReport.markdown(result)
        #expect(markdown.contains("| countermeasure | protected: final | protected: best epoch | protected: best check | "
                                  + "clean baseline: final | clean baseline: best epoch | clean baseline: best check | verdict |"))
        #expect(markdown.contains("| none | 15.0% | 20.0% | 80.0% | 90.0% | 90.0% | 90.0% | BROKEN |"))
        #expect(markdown.contains("best of 2 clean-test checks per epoch"))
        let html = VerificationReport.html(result, samples: [])
        #expect(html.contains("<th>protected: best check</th>"))
        #expect(html.components(separatedBy: "stroke-opacity").count == 3)   // every check plotted, both curves
    }

    @Test func reportShowsPerClassAccuracyAndNamesCatchAllClasses() {
        // 4 classes, 10 test images each. The protected model sends almost everything to class 2.
        let protected = TrainingCurve(accuracies: [0.5, 0.3], trainingLosses: [1, 1], seconds: 1, finalConfusion: [
            [1, 0, 9, 0], [0, 0, 10, 0], [0, 0, 10, 0], [0, 1, 8, 1]])
        let clean = TrainingCurve(accuracies: [0.8, 0.9], trainingLosses: [1, 1], seconds: 1, finalConfusion: [
            [9, 1, 0, 0], [0, 10, 0, 0], [1, 0, 8, 1], [0, 1, 0, 9]])
        #expect(protected.perClassAccuracy == [0.1, 0, 1, 0.1])
        #expect(protected.predictionShares == [0.025, 0.025, 0.925, 0.025])
        let result = VerificationResult(
            trainDataset: "p", baselineDataset: "c", testDataset: "t", model: "small", epochs: 2, seed: 0,
            classes: ["a", "b", "c", "d"], trainCount: 40, testCount: 40, chance: 0.25,
            rows: [CountermeasureResult(countermeasure: "none", protected: protected, baseline: clean,
                                        verdict: Verdict.judge(protected: protected, baseline: clean, chance: 0.25))])
        let markdown = VerificationReport.markdown(result)
        #expect(markdown.contains("| class | none: protected | none: baseline |"))
        #expect(markdown.contains("| c | 100.0% | 80.0% |"))
        #expect(markdown.contains("`c` (92.5% of the images, 100.0% of its own)"))
        #expect(markdown.contains("make 25.0 points of its 30.0% final accuracy; the other classes average 6.7%"))
        let html = VerificationReport.html(result, samples: [])
        #expect(html.contains("<th>none: baseline</th>") && html.contains("<td>c</td><td>100.0%</td><td>80.0%</td>"))
        // Reports without confusion matrices (made before they were recorded) have no per-class section
        let old = VerificationResult(
            trainDataset: "p", baselineDataset: nil, testDataset: "t", model: "small", epochs: 2, seed: 0,
            classes: ["a", "b", "c", "d"], trainCount: 40, testCount: 40, chance: 0.25,
            rows: [CountermeasureResult(countermeasure: "none", protected: TrainingCurve(
                accuracies: [0.3], trainingLosses: [1], seconds: 1), baseline: nil, verdict: .unknown)])
        #expect(!VerificationReport.markdown(old).contains("per class"))
    }

    @Test func outputClampsTheSumNeverTheNoise() {
        let image = RGBImage(width: 3, height: 1, gray: [250, 3, 200])
        let eps: Float = 8 / 255
        let out = OutputWriter.apply([eps, -eps, -eps], channels: 1, to: image, epsilon: 8)
        #expect(out.pixels == [255, 255, 255, 0, 0, 0, 192, 192, 192])
        // Rounding never takes an output beyond floor(eps) levels
        let rounded = OutputWriter.apply([8.49 / 255, -8.49 / 255, 0.5 / 255], channels: 1, to: image, epsilon: 8.49)
        #expect(ImageMetrics.linf(image, rounded) <= 8)
    }

    @Test func aSurrogateRestartReplacesEveryTensorAndClearsTheMomentum() throws {
        func fresh(_ k: Int) -> any Layer {
            var g = SplitMix64(seed: 100 + UInt64(k))
            return SmallCNN(inputChannels: 1, classCount: 4, widths: [8, 16, 16], using: &g)
        }
        var settings = UnlearnableSettings(mode: .class)
        settings.restartEvery = 2
        let base = randomLabelProblem(mode: .class, pixelSeed: 3) { _ in }
        let noise = ErrorMinimizingNoise(settings: settings, data: base.data, classCount: 4, model: base.model,
                                         optimizer: base.optimizer, generationIndices: base.generationIndices,
                                         freshSurrogate: fresh)
        _ = noise.runRound()
        _ = noise.runRound()
        #expect(!noise.optimizer.momentumBuffers.isEmpty)
        #expect(Checkpoint(of: noise.model).serialized() != Checkpoint(of: fresh(1)).serialized())
        noise.restartSurrogate(number: 1)   // what round 3 starts with
        #expect(noise.optimizer.momentumBuffers.isEmpty)
        #expect(Checkpoint(of: noise.model).serialized() == Checkpoint(of: fresh(1)).serialized())
    }

    @Test func aGreyImageStaysGreyUnderColourNoise() {
        let grey = RGBImage(width: 2, height: 1, gray: [100, 250])
        let colourNoise: [Float] = [6, -3, 0, 8, 8, 8].map { $0 / 255 }
        let out = OutputWriter.apply(colourNoise, channels: 3, to: grey, epsilon: 8)
        #expect(out.isGrayscale && out.pixels == [101, 101, 101, 255, 255, 255])   // the channels' mean, 1 level
        // A colour image gets each channel's own noise
        let colour = RGBImage(width: 2, height: 1, pixels: [100, 100, 101, 250, 250, 250])
        #expect(OutputWriter.apply(colourNoise, channels: 3, to: colour, epsilon: 8).pixels == [106, 97, 101, 255, 255, 255])
    }

    func job(_ root: String, out: String, mode: UnlearnableSettings.Mode, rounds: Int = 3) -> UnlearnableJob {
        var settings = UnlearnableSettings(mode: mode)
        settings.batchSize = 8
        settings.trainSteps = 2
        settings.pgdSteps = 2
        settings.subset = mode == .class ? 0.5 : 1
        settings.stopError = 0        // never reached: the round limit ends it
        settings.maxRounds = rounds
        settings.seed = 11
        var j = UnlearnableJob(trainFolder: root, outputFolder: out, settings: settings, quiet: true)
        j.stopAfterRounds = nil
        return j
    }

    @Test func classWiseNoiseIsOnePatternPerClassAndOutputsStayInTheBudget() throws {
        let root = try makeTinyFolder()
        let out = (root as NSString).deletingLastPathComponent + "/cloaked"
        var j = job(root, out: out, mode: .class)
        j.settings.stopError = 0.99   // reached at once: the outputs are written
        try FileManager.default.createDirectory(atPath: out + "/class0", withIntermediateDirectories: true)
        for name in [".3.png.cloak-tmp-5e2a07", ".kept"] {
            #expect(FileManager.default.createFile(atPath: "\(out)/class0/\(name)", contents: Data([0x89])))
        }
        let store = try ProvenanceStore()
        let summary = try j.run(store: store, arguments: ["cloak", "unlearnable"])
        #expect(summary.written == 24 && summary.failures == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out + "/class0").filter { $0.hasPrefix(".") }
                    == [".kept"])   // a killed run's half-written file is gone, nothing else
        let (noise, shape) = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: out + "/noise.npy")!), path: "noise.npy")
        #expect(shape == [3, 1, 12, 12])
        #expect(noise.allSatisfy { abs($0) <= 8 / 255 + 1e-7 })
        // Every output, decoded from its PNG, is within 8 levels of its input; pixels that were not clamped
        // carry exactly their class's noise pattern (rounded)
        for c in 0..<3 {
            for i in 0..<8 {
                let input = try ImageCodec.decode(path: "\(root)/class\(c)/\(i).png").image
                let output = try ImageCodec.decode(path: "\(out)/class\(c)/\(i).png").image
                #expect(ImageMetrics.linf(input, output) <= 8)
                for p in 2..<(12 * 12) where input.pixels[3 * p] > 10 && input.pixels[3 * p] < 245 {
                    let expected = Int((Float(input.pixels[3 * p]) / 255 + noise[c * 144 + p]) * 255)
                    #expect(abs(Int(output.pixels[3 * p]) - expected) <= 1)
                }
            }
        }
        #expect(try store.outputCount(runID: summary.runID) == 24)
    }

    /// With a decoy class, its pattern stays zero through the rounds and its images are written unchanged; the
    /// other patterns are evened to the strongest one's L2 norm (within the budget). An unknown class, or a decoy
    /// with sample-wise noise, is refused.
    @Test func aDecoyClassGetsNoPatternAndTheOthersAreEvened() throws {
        let problem = randomLabelProblem(mode: .class, pixelSeed: 5) { _ in }
        let generator = ErrorMinimizingNoise(settings: problem.settings, data: problem.data, classCount: 4,
                                             model: problem.model, optimizer: problem.optimizer,
                                             generationIndices: problem.generationIndices, decoy: 2)
        for _ in 0..<3 { generator.runRound() }
        let size = 64
        func pattern(_ noise: [Float], _ k: Int) -> [Float] { Array(noise[(k * size)..<((k + 1) * size)]) }
        func norm(_ p: [Float]) -> Float { p.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        #expect(pattern(generator.noise, 2).allSatisfy { $0 == 0 })
        #expect(pattern(generator.noise, 0).contains { $0 != 0 })
        let evened = generator.evenedNoise()
        let norms = [0, 1, 3].map { norm(pattern(evened, $0)) }
        let strongest = [0, 1, 3].map { norm(pattern(generator.noise, $0)) }.max()!
        #expect(norms.allSatisfy { abs($0 - strongest) <= strongest * 0.01 }, "\(norms) against \(strongest)")
        #expect(pattern(evened, 2).allSatisfy { $0 == 0 })
        #expect(evened.allSatisfy { abs($0) <= problem.settings.epsilonUnit + 1e-7 })
        for k in [0, 1, 3] {   // evening scales a pattern, it does not turn it: no value changes sign
            #expect(zip(pattern(evened, k), pattern(generator.noise, k)).allSatisfy { $0 * $1 >= 0 && abs($0) >= abs($1) })
        }

        let root = try makeTinyFolder()
        let out = (root as NSString).deletingLastPathComponent + "/cloaked"
        var j = job(root, out: out, mode: .class)
        j.settings.stopError = 0.99
        j.settings.decoyClass = "class1"
        let summary = try j.run(store: try ProvenanceStore(), arguments: ["cloak", "unlearnable"])
        #expect(summary.written == 24 && summary.settings.decoyClass == "class1")
        #expect(UnlearnableReport.text(summary).contains("Decoy: class1 has no pattern (its images are written unchanged"))
        for i in 0..<8 {
            #expect(try ImageCodec.decode(path: "\(root)/class1/\(i).png").image
                    == ImageCodec.decode(path: "\(out)/class1/\(i).png").image)
        }
        let (noise, _) = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: out + "/noise.npy")!), path: "n")
        #expect(noise[144..<288].allSatisfy { $0 == 0 } && noise[0..<144].contains { $0 != 0 })

        j.settings.decoyClass = "Bag"
        #expect(throws: UnlearnableError.invalidSettings(
            "\(root): --decoy-class Bag is not one of its classes (class0, class1, class2)")) {
            try j.run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
        var sampleWise = UnlearnableSettings(mode: .sample)
        sampleWise.decoyClass = "class1"
        #expect(throws: UnlearnableError.invalidSettings("--decoy-class applies to class-wise noise only")) {
            try sampleWise.validate()
        }
    }

    @Test func sampleWiseNoiseDiffersPerSample() throws {
        let root = try makeTinyFolder(classes: 2, perClass: 6)
        let out = (root as NSString).deletingLastPathComponent + "/cloaked"
        var j = job(root, out: out, mode: .sample, rounds: 2)
        j.settings.stopError = 0.99
        _ = try j.run(store: try ProvenanceStore(), arguments: ["cloak"])
        let (noise, shape) = try NPYFile.decode([UInt8](FileManager.default.contents(atPath: out + "/noise.npy")!), path: "n")
        #expect(shape == [12, 1, 12, 12])
        let patterns = (0..<12).map { Array(noise[($0 * 144)..<(($0 + 1) * 144)]) }
        // Images of the same class get different noise: it is indexed by sample, not by class
        #expect(patterns[0] != patterns[1])
        #expect(Set(patterns.map { $0.map(\.bitPattern) }).count == 12)
    }

    @Test func interruptedJobResumesAsOneRunWithACompleteOutputSet() throws {
        let root = try makeTinyFolder()
        let parent = (root as NSString).deletingLastPathComponent
        let storePath = parent + "/store.sqlite"
        // An uninterrupted reference run
        let reference = job(root, out: parent + "/reference", mode: .class, rounds: 4)
        #expect(throws: UnlearnableError.self) { try reference.run(store: try ProvenanceStore(), arguments: ["cloak"]) }

        // The same job stopped after round 2, then started again
        var interrupted = job(root, out: parent + "/resumed", mode: .class, rounds: 4)
        interrupted.settings.stopError = 0
        interrupted.stopAfterRounds = 2
        let store = try ProvenanceStore(path: storePath)
        #expect(throws: UnlearnableJob.Stopped.self) { try interrupted.run(store: store, arguments: ["cloak"]) }
        #expect(try store.recentRuns().first?.status == .interrupted)
        let saved = try #require(try UnlearnableState.load(from: parent + "/resumed"))
        #expect(saved.round == 2 && saved.history.count == 2)

        // Resumed with a round limit that the stop error is then reached within
        var resumed = job(root, out: parent + "/resumed", mode: .class, rounds: 4)
        resumed.settings.stopError = 0
        #expect(throws: UnlearnableError.stopErrorNotReached(rounds: 4, error: try #require(
            UnlearnableState.load(from: parent + "/reference")?.history.last?.error), stopError: 0)) {
            try resumed.run(store: store, arguments: ["cloak"])
        }
        #expect(UnlearnableError.stopErrorNotReached(rounds: 1, error: 0.25, stopError: 0).localizedDescription
            .hasPrefix("the surrogate's error was still 0.2500 after 1 round (stop error 0.0000, which no error is below); "))
        #expect(UnlearnableError.stopErrorNotReached(rounds: 4, error: 0.25, stopError: 0.01).localizedDescription
            .hasPrefix("the surrogate's error was still 0.2500 after 4 rounds (stop error 0.0100); no images were written"))
        let state = try #require(try UnlearnableState.load(from: parent + "/resumed"))
        #expect(state.round == 4 && state.history.map(\.round) == [1, 2, 3, 4])
        // The resumed run followed the same path as the uninterrupted one
        let referenceState = try #require(try UnlearnableState.load(from: parent + "/reference"))
        #expect(state.history.map(\.error) == referenceState.history.map(\.error))

        // Now let it finish (stop error reachable) and write outputs: still one run, no duplicates
        var finishing = job(root, out: parent + "/resumed", mode: .class, rounds: 5)
        finishing.settings.stopError = 0.99
        let summary = try finishing.run(store: store, arguments: ["cloak"])
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 2)
        #expect(summary.written == 24)
        #expect(try store.outputCount(runID: runs[0].id) == 24)
        #expect(try store.outputPaths(runID: runs[0].id).count == Set(try store.outputPaths(runID: runs[0].id)).count)
    }
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

@Suite("cloak verify resumes")
struct VerifyResumeTests {
    func verifier(_ train: String, test: String, baseline: String, report: String) -> Verifier {
        tinyVerifier(train, test: test, baseline: baseline, report: report, countermeasures: [.none, .jpeg10])
    }

    @Test func interruptedVerificationKeepsTheModelsItTrainedAndRunsOnlyTheRest() throws {
        let train = try makeTinyFolder(seed: 1), test = try makeTinyFolder(seed: 2), baseline = try makeTinyFolder(seed: 3)
        let parent = try temporaryFolder()
        let reference = try verifier(train, test: test, baseline: baseline, report: parent + "/reference")
            .run(store: try ProvenanceStore(), arguments: ["cloak"]).result

        // Stopped after 3 of the 4 models, then run again: one run, 4 models recorded, the same result
        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        var interrupted = verifier(train, test: test, baseline: baseline, report: parent + "/resumed")
        interrupted.stopAfterTrainings = 3
        #expect(throws: Verifier.Stopped.self) { try interrupted.run(store: store, arguments: ["cloak"]) }
        let runID = try #require(try store.recentRuns().first?.id)
        #expect(try store.recentRuns().first?.status == .interrupted)
        let before = try store.verifications(runID: runID)
        #expect(before.count == 3)

        let resumed = try verifier(train, test: test, baseline: baseline, report: parent + "/resumed")
            .run(store: store, arguments: ["cloak"]).result
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 1)
        let after = try store.verifications(runID: runID)
        #expect(after.count == 4 && Array(after.prefix(3).map(\.id)) == before.map(\.id))
        #expect(after.allSatisfy { $0.details.contains("\"verdict\"") })
        #expect(resumed.rows.map(\.verdict) == reference.rows.map(\.verdict))
        for (r, s) in zip(resumed.rows, reference.rows) {
            for (a, b) in [(r.protected, s.protected), (r.baseline!, s.baseline!)] {
                #expect(a.accuracies == b.accuracies && a.trainingLosses == b.trainingLosses)
                #expect(a.finalConfusion == b.finalConfusion)
            }
        }

        // When the protected data changed in between, its models are trained again; the baseline's are kept
        let other = try ProvenanceStore(path: parent + "/other.sqlite")
        var stopped = verifier(train, test: test, baseline: baseline, report: parent + "/changed")
        stopped.stopAfterTrainings = 3
        #expect(throws: Verifier.Stopped.self) { try stopped.run(store: other, arguments: ["cloak"]) }
        let otherRun = try #require(try other.recentRuns().first?.id)
        let kept = try other.verifications(runID: otherRun).filter(\.isBaseline)
        let image = try ImageCodec.decode(path: train + "/class0/0.png").image
        var changed = image
        changed.pixels[3 * 20] = changed.pixels[3 * 20] &+ 1
        changed.pixels[3 * 20 + 1] = changed.pixels[3 * 20]
        changed.pixels[3 * 20 + 2] = changed.pixels[3 * 20]
        try ImageCodec.write(changed, to: train + "/class0/0.png", as: .png)
        _ = try verifier(train, test: test, baseline: baseline, report: parent + "/changed").run(store: other, arguments: ["cloak"])
        let final = try other.verifications(runID: otherRun)
        #expect(final.count == 4)
        #expect(final.filter(\.isBaseline).prefix(1).map(\.id) == kept.map(\.id), "the baseline trained before is kept")
        #expect(final.filter { !$0.isBaseline }.allSatisfy { record in !kept.contains { $0.id == record.id } && record.id! > kept[0].id! })
    }

    /// Stopped every 2 epochs (each invocation finishes one model and stops within the next), the
    /// verification resumes each model from its last epoch: model, batch-norm statistics, momentum,
    /// learning-rate schedule and random batches (augmentation, adversarial starts) continue exactly.
    @Test func modelsResumeFromTheirLastEpochWithTheSameResult() throws {
        let train = try makeTinyFolder(seed: 4), test = try makeTinyFolder(seed: 5), baseline = try makeTinyFolder(seed: 6)
        let parent = try temporaryFolder()
        func make(_ report: String) -> Verifier {
            var v = verifier(train, test: test, baseline: baseline, report: parent + report)
            v.settings.epochs = 3
            v.settings.countermeasures = [.augment, .adversarial]
            v.settings.adversarialSteps = 2
            return v
        }
        let reference = try make("/reference").run(store: try ProvenanceStore(), arguments: ["cloak"]).result

        let store = try ProvenanceStore(path: parent + "/store.sqlite")
        var invocations = 0
        var result: VerificationResult?
        while result == nil && invocations < 10 {
            var stopping = make("/resumed")
            stopping.stopAfterEpochs = 2
            invocations += 1
            do {
                result = try stopping.run(store: store, arguments: ["cloak"]).result
            } catch is Verifier.Stopped {
                let saved = try FileManager.default.contentsOfDirectory(atPath: parent + "/resumed/.cloak-verify")
                #expect(saved.count == 1, "one model in progress: \(saved)")
            }
        }
        #expect(invocations == 5, "4 models of 3 epochs, at most 2 epochs of the first model per invocation")
        let resumed = try #require(result)
        for (r, s) in zip(resumed.rows, reference.rows) {
            for (a, b) in [(r.protected, s.protected), (r.baseline!, s.baseline!)] {
                #expect(a.accuracies == b.accuracies && a.trainingLosses == b.trainingLosses, "\(r.countermeasure)")
                #expect(a.finalConfusion == b.finalConfusion)
            }
        }
        let runs = try store.recentRuns()
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 4)
        #expect(try store.verifications(runID: runs[0].id).count == 4)
        #expect(!FileManager.default.fileExists(atPath: parent + "/resumed/.cloak-verify"), "the saved states are removed")
    }
}

@Suite("cloak verify --clean-fraction")
struct CleanMixTests {
    @Test func aSeededFractionOfTheProtectedImagesBecomesTheirCleanOriginals() throws {
        let protectedRoot = try makeTinyFolder(seed: 7), cleanRoot = try makeTinyFolder(seed: 8)   // same names, other pixels
        let protected = try ImageFolder(root: protectedRoot).load(), clean = try ImageFolder(root: cleanRoot).load()
        let mix = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        #expect(mix.replaced.count == 6)
        var replaced: [String] = []
        for i in 0..<protected.count {
            if Array(mix.images.image(i)) == Array(clean.image(i)) {
                replaced.append(protected.paths[i])
            } else {
                #expect(Array(mix.images.image(i)) == Array(protected.image(i)))
            }
        }
        #expect(replaced == mix.replaced)
        #expect(mix.images.labels == protected.labels && mix.images.paths == protected.paths)
        let again = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        #expect(again.replaced == mix.replaced)
        let other = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 4)
        #expect(other.replaced != mix.replaced)

        // Only images with a clean original can be replaced
        for i in 0..<20 { try FileManager.default.removeItem(atPath: clean.paths[i]) }
        let fewer = try ImageFolder(root: cleanRoot).load()
        #expect(throws: VerifyError.tooFewCleanOriginals(baseline: cleanRoot, needed: 6, found: 4)) {
            try CleanMix.mix(protected, root: protectedRoot, clean: fewer, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        }
    }

    @Test func theReportSaysTheProtectionWasPartial() throws {
        let train = try makeTinyFolder(seed: 9), test = try makeTinyFolder(seed: 10), baseline = try makeTinyFolder(seed: 11)
        var settings = VerifySettings()
        settings.epochs = 1
        settings.batchSize = 8
        settings.cleanFraction = 0.5
        let outcome = try Verifier(trainFolder: train, testFolder: test, baselineFolder: baseline,
                                   reportFolder: try temporaryFolder() + "/report", settings: settings, quiet: true)
            .run(store: try ProvenanceStore(), arguments: ["cloak"])
        #expect(outcome.result.cleanFraction == 0.5)
        #expect(VerificationReport.markdown(outcome.result).contains("Partial protection: 50.0% of the protected training images"))
        settings.cleanFraction = 0
        let twoClasses = try makeTinyFolder(classes: 2, seed: 12)
        let mismatch = VerifyError.classMismatch(path: twoClasses, classes: ["class0", "class1"], trainPath: train,
                                                 trainClasses: ["class0", "class1", "class2"])
        #expect(throws: mismatch) {
            try Verifier(trainFolder: train, testFolder: test, baselineFolder: twoClasses, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
        #expect(mismatch.localizedDescription.hasPrefix("\(twoClasses): its classes (class0, class1) are not those of "))
        #expect(mismatch.localizedDescription.contains("; no images of class2."))
        settings.cleanFraction = 0.5
        #expect(throws: VerifyError.cleanFractionNeedsBaseline) {
            try Verifier(trainFolder: train, testFolder: test, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
    }
}

@Suite("cloak unlearnable never writes over files it did not make")
struct UnlearnableOutputFolderTests {
    @Test func aFolderHoldingAnotherCopyOfTheDataIsRefusedAndLeftAlone() throws {
        let train = try makeTinyFolder(seed: 1)
        let backup = try temporaryFolder() + "/backup"
        try FileManager.default.copyItem(atPath: train, toPath: backup)
        let before = try Data(contentsOf: URL(fileURLWithPath: backup + "/class0/0.png"))
        var settings = UnlearnableSettings(mode: .class)
        settings.maxRounds = 2
        settings.stopError = 0.95   // what is written does not matter here
        settings.batchSize = 8
        let job = UnlearnableJob(trainFolder: train, outputFolder: backup, settings: settings, quiet: true)
        #expect(throws: UnlearnableError.self) { try job.run(store: try ProvenanceStore(), arguments: ["cloak"]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup + "/class0/0.png")) == before)
        #expect(!FileManager.default.fileExists(atPath: backup + "/noise.npy"))
        // A new folder is fine, and so is running again into the folder that run made
        let out = try temporaryFolder() + "/cloaked"
        for _ in 0..<2 {
            _ = try UnlearnableJob(trainFolder: train, outputFolder: out, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
    }
}
