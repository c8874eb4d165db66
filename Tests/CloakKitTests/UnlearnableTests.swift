import CloakData
import CloakImage
import CloakNN
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

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

