import CloakNN
import CloakTensor
import Foundation

/// The bi-level min-min optimisation of Unlearnable Examples (Huang et al., ICLR 2021) on data in memory.
///
/// Each round (``runRound()``):
/// 1. trains the surrogate for `trainSteps` batches of `clamp(x + δ, 0, 1)` (training mode, SGD, gradient
///    norm clipped), drawing batches from a seeded shuffled pass over the generation set that continues
///    across rounds;
/// 2. updates δ over the whole generation set (in a seeded order shuffled each round), batch by batch, with `pgdSteps` steps of sign-gradient
///    *descent* on the cross-entropy (surrogate in inference mode, parameters frozen, so no weight-gradient
///    work is done): `x' ← x' − α·sign(∇ₓ CE)`, `η = clamp(x' − x, −ε, ε)`, `x' = clamp(x + η, 0, 1)`.
///    Sample-wise, each image's δ becomes `x' − x` (indexed by the image, never by its class). Class-wise,
///    by default each class's δ becomes `clamp(mean of η over the batch's images of that class, −ε, ε)`,
///    as the reference code does; with ``UnlearnableSettings/ClassUpdate/gradient`` each class pattern
///    takes the sign-gradient steps itself, its gradient being the sum of its images' input gradients; with
///    ``UnlearnableSettings/noiseTile`` (either mode) each pattern is one tile repeated across the image and
///    takes the steps on its gradient summed over its images and its copies (``updatePatterns(indices:labels:)``);
/// 3. measures the surrogate's error on `clamp(x + δ, 0, 1)` over the generation set (inference mode).
///
/// The noise is always added to the image and the *sum* clamped to [0, 1]; the noise alone is never
/// clamped to a pixel range (the reference loader's bug). No augmentation is used during generation
/// (as in the reference, by design: the noise must be a shortcut for the un-augmented images).
///
/// Layouts: `data.pixels` NHWC in [0, 1]. `noise` holds `classCount` (class-wise) or `data.count`
/// (sample-wise) patterns of `height x width x channels` floats (HWC), in [0, 1] units, within [−ε, ε].
public final class ErrorMinimizingNoise {
    public let settings: UnlearnableSettings
    public let data: LabelledImages
    public let classCount: Int
    /// Images (indices into `data`) that generate the noise.
    public let generationIndices: [Int]
    public let model: any Layer
    public let optimizer: SGD
    /// The noise (see the type's layout note).
    public private(set) var noise: [Float]
    /// Rounds completed so far.
    public private(set) var round: Int
    /// Where each pattern's free values sit (per pixel, or per tile position with a noise tile).
    let patternParameters: PatternParameters
    /// Class-wise: the class whose pattern is held at zero (``UnlearnableSettings/decoyClass``), or nil.
    public let decoy: Int?
    /// With ``UnlearnableSettings/restartEvery``: a freshly initialised surrogate for restart number `k` (1, 2, ...).
    let freshSurrogate: ((Int) -> any Layer)?

    /// What one round did.
    public struct RoundSummary: Codable, Sendable, Equatable {
        public var round: Int
        /// Surrogate error on the noisy generation set after the round.
        public var error: Double
        /// Mean training loss over the round's surrogate batches.
        public var trainingLoss: Double
        /// Mean |δ| as a fraction of ε.
        public var budgetUse: Double
        /// Mean |clamp(x + δ, 0, 1) − x| over the generation set as a fraction of ε: the change the images can
        /// show (noise that would push a black pixel below 0 counts for nothing). `nil` in states saved before
        /// it was measured.
        public var visibleChange: Double?
        public var seconds: Double
    }

    /// - Parameters:
    ///   - noise: the state to continue from (a resumed run), or `nil` to start from zero noise (or seeded
    ///     uniform noise in [−ε, ε] with ``UnlearnableSettings/randomStart``).
    ///   - round: rounds already completed (a resumed run).
    ///   - freshSurrogate: with ``UnlearnableSettings/restartEvery``, makes restart `k`'s surrogate (the same
    ///     architecture as `model`, whose tensors it replaces).
    ///   - decoy: class-wise, the label whose pattern stays zero (``UnlearnableSettings/decoyClass``).
    public init(settings: UnlearnableSettings, data: LabelledImages, classCount: Int, model: any Layer,
                optimizer: SGD, generationIndices: [Int], noise: [Float]? = nil, round: Int = 0,
                freshSurrogate: ((Int) -> any Layer)? = nil, decoy: Int? = nil) {
        precondition(!generationIndices.isEmpty, "noise generation needs at least one image")
        precondition(decoy == nil || (settings.mode == .class && (0..<classCount).contains(decoy!)),
                     "a decoy is one of the classes, class-wise")
        self.decoy = decoy
        precondition(settings.restartEvery == nil || freshSurrogate != nil, "surrogate restarts need freshSurrogate")
        self.freshSurrogate = freshSurrogate
        self.settings = settings
        self.data = data
        self.classCount = classCount
        self.model = model
        self.optimizer = optimizer
        self.generationIndices = generationIndices
        let map = PatternParameters(height: data.height, width: data.width, channels: data.channels,
                                    tile: settings.noiseTile)
        patternParameters = map
        let patterns = settings.mode == .class ? classCount : data.count
        let size = patterns * data.imageSize
        if let noise {
            precondition(noise.count == size, "noise has \(noise.count) values, expected \(size)")
            self.noise = noise
        } else if settings.randomStart == true {
            var generator = SplitMix64(seed: settings.seed ^ 0x0A5E_57A7_0000)
            let eps = settings.epsilonUnit
            self.noise = (0..<patterns).flatMap { _ in
                let values = (0..<map.count).map { _ in Float.random(in: -eps...eps, using: &generator) }
                return map.parameter.map { values[$0] }
            }
        } else {
            self.noise = [Float](repeating: 0, count: size)
        }
        if let decoy {
            for j in (decoy * data.imageSize)..<((decoy + 1) * data.imageSize) { self.noise[j] = 0 }
        }
        self.round = round
    }

    /// The seeded subset used for class-wise generation: `fraction` of the images, drawn uniformly.
    public static func subset(count: Int, fraction: Double, seed: UInt64) -> [Int] {
        if fraction >= 1 { return Array(0..<count) }
        var generator = SplitMix64(seed: seed ^ 0x5EED_5AB5_E7)
        let take = max(1, Int((Double(count) * fraction).rounded()))
        return Array(seededPermutation(count: count, using: &generator).prefix(take)).sorted()
    }

    /// Offset in `noise` of the pattern applied to image `index` of `data`.
    @inline(__always) func noiseOffset(forImage index: Int) -> Int {
        (settings.mode == .class ? data.labels[index] : index) * data.imageSize
    }

    // MARK: - Batches

    /// Clean images at `indices` as an NHWC batch.
    func cleanBatch(_ indices: [Int]) -> Tensor { data.batch(indices).images }

    /// `clamp(x + δ, 0, 1)` for the images at `indices`, as an NHWC batch.
    func noisyBatch(_ indices: [Int]) -> Tensor {
        let size = data.imageSize
        return Tensor(shape: [indices.count, data.height, data.width, data.channels]) { out in
            data.pixels.withUnsafeBufferPointer { x in
                noise.withUnsafeBufferPointer { d in
                    for (row, index) in indices.enumerated() {
                        let xo = index * size, no = noiseOffset(forImage: index), oo = row * size
                        for j in 0..<size { out[oo + j] = min(1, max(0, x[xo + j] + d[no + j])) }
                    }
                }
            }
        }
    }

    // MARK: - The round

    /// Runs one round: surrogate training, noise update, stop test.
    @discardableResult
    public func runRound() -> RoundSummary {
        let start = monotonicSeconds()
        if let every = settings.restartEvery, round > 0, round % every == 0 { restartSurrogate(number: round / every) }
        let loss = trainSurrogate()
        updateNoise()
        round += 1
        let error = surrogateError()
        return RoundSummary(round: round, error: error, trainingLoss: loss, budgetUse: budgetUse(),
                            visibleChange: visibleChange(), seconds: monotonicSeconds() - start)
    }

    /// ``UnlearnableSettings/restartEvery``: the surrogate's tensors replaced by a fresh one's, momentum cleared.
    /// Decided by the round number alone, so a resumed run restarts where an uninterrupted one would.
    func restartSurrogate(number: Int) {
        do {
            try Checkpoint(of: freshSurrogate!(number)).load(into: model)
        } catch {
            preconditionFailure("freshSurrogate must make the surrogate's architecture: \(error)")
        }
        optimizer.momentumBuffers = [:]
    }

    /// Step 1: `trainSteps` batches of noisy data. Returns the mean loss.
    func trainSurrogate() -> Double {
        guard settings.trainSteps > 0 else { return 0 }
        model.setRequiresGradient(true)
        let trainer = Trainer(model: model, optimizer: optimizer, configuration: TrainingConfiguration(
            epochs: 1, batchSize: settings.batchSize, schedule: ConstantLearningRate(Float(settings.learningRate)),
            gradientClipNorm: Float(settings.gradientClip)))
        optimizer.learningRate = Float(settings.learningRate)
        var total = 0.0
        for step in 0..<settings.trainSteps {
            let indices = trainingBatch(number: round * settings.trainSteps + step)
            total += Double(trainer.step(images: noisyBatch(indices), labels: indices.map { data.labels[$0] }).loss)
        }
        return total / Double(settings.trainSteps)
    }

    /// The `number`-th surrogate training batch: consecutive slices of seeded permutations of the generation
    /// set, one permutation per pass. A function of the seed and the number only, so a resumed run draws
    /// exactly the batches an uninterrupted one would.
    func trainingBatch(number: Int) -> [Int] {
        let n = generationIndices.count
        let batch = min(settings.batchSize, n)
        let perPass = max(1, n / batch)
        let pass = number / perPass, slot = number % perPass
        if cachedPass?.pass != pass {
            var generator = SplitMix64(seed: settings.seed &+ 0x9E37_79B9 &* UInt64(pass + 1))
            cachedPass = (pass, seededPermutation(count: n, using: &generator))
        }
        return cachedPass!.order[(slot * batch)..<(slot * batch + batch)].map { generationIndices[$0] }
    }
    private var cachedPass: (pass: Int, order: [Int])?

    /// Step 2: sign-gradient descent on δ over the generation set, batch by batch.
    func updateNoise() {
        model.setTraining(false)
        model.setRequiresGradient(false)
        defer { model.setRequiresGradient(true) }
        let size = data.imageSize
        let eps = settings.epsilonUnit, alpha = settings.stepUnit
        // Visit the generation set in a seeded shuffled order, new each round (as the reference's shuffling
        // data loader): in file order a batch would hold one or two classes, and each class pattern would get
        // two or three updates per round instead of one per batch.
        var generator = SplitMix64(seed: settings.seed ^ 0xA5A5_0000_0000 &+ UInt64(round))
        let order = seededPermutation(count: generationIndices.count, using: &generator).map { generationIndices[$0] }
        var begin = 0
        while begin < order.count {
            let indices = Array(order[begin..<min(begin + settings.batchSize, order.count)])
            begin += indices.count
            let labels = indices.map { data.labels[$0] }
            if settings.noiseTile != nil || (settings.mode == .class && settings.classUpdate == .gradient) {
                updatePatterns(indices: indices, labels: labels)
                continue
            }
            let clean = cleanBatch(indices).scalars
            var adversarial = noisyBatch(indices).scalars
            var eta = [Float](repeating: 0, count: adversarial.count)
            for _ in 0..<settings.pgdSteps {
                let input = Tensor(shape: [indices.count, data.height, data.width, data.channels], scalars: adversarial)
                let logits = model(input)
                let gradient = model.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient).scalars
                for j in adversarial.indices {
                    let g = gradient[j]
                    let stepped = adversarial[j] - (g > 0 ? alpha : (g < 0 ? -alpha : 0))
                    let e = min(eps, max(-eps, stepped - clean[j]))
                    eta[j] = e
                    adversarial[j] = min(1, max(0, clean[j] + e))
                }
            }
            switch settings.mode {
            case .sample:
                for (row, index) in indices.enumerated() {
                    let o = index * size, r = row * size
                    for j in 0..<size { noise[o + j] = adversarial[r + j] - clean[r + j] }
                }
            case .class:
                var sums = [Int: [Float]](), counts = [Int: Int]()
                for (row, label) in labels.enumerated() {
                    let r = row * size
                    if sums[label] == nil { sums[label] = [Float](repeating: 0, count: size) }
                    for j in 0..<size { sums[label]![j] += eta[r + j] }
                    counts[label, default: 0] += 1
                }
                for (label, sum) in sums where label != decoy {
                    let n = Float(counts[label]!), o = label * size
                    for j in 0..<size { noise[o + j] = min(eps, max(-eps, sum[j] / n)) }
                }
            }
        }
    }

    /// The pattern-level update (class-wise ``UnlearnableSettings/ClassUpdate/gradient``, or any mode with
    /// ``UnlearnableSettings/noiseTile``): `pgdSteps` sign-gradient steps on each pattern present in the batch
    /// (a class's, or an image's own), a pattern's gradient being the sum of its images' input gradients, and
    /// with tiles also over the tile's copies. Through `clamp(x + δ, 0, 1)`: where an image's sum sits at a
    /// bound, the image contributes only if the descent step would move it back inside (one-sided derivative);
    /// otherwise the pattern would keep moving where no image can show it, e.g. below 0 on the black background
    /// of most Fashion-MNIST images.
    func updatePatterns(indices: [Int], labels: [Int]) {
        let size = data.imageSize
        let eps = settings.epsilonUnit, alpha = settings.stepUnit
        let map = patternParameters
        let keys = settings.mode == .class ? labels : indices
        let present = Array(Set(keys)).sorted().filter { $0 != decoy }   // a decoy is class-wise only
        for _ in 0..<settings.pgdSteps {
            let logits = model(noisyBatch(indices))
            let gradient = model.backward(softmaxCrossEntropy(logits: logits, labels: labels).gradient).scalars
            var sums = [Int: [Float]]()
            for key in present { sums[key] = [Float](repeating: 0, count: map.count) }
            for (row, (key, index)) in zip(keys, indices).enumerated() {
                let r = row * size, xo = index * size, no = key * size
                gradient.withUnsafeBufferPointer { g in
                    data.pixels.withUnsafeBufferPointer { x in
                        sums[key]!.withUnsafeMutableBufferPointer { s in
                            for j in 0..<size {
                                let v = x[xo + j] + noise[no + j], gj = g[r + j]
                                if (v > 0 || gj < 0) && (v < 1 || gj > 0) { s[map.parameter[j]] += gj }
                            }
                        }
                    }
                }
            }
            for key in present {
                let o = key * size, sum = sums[key]!
                let stepped = (0..<map.count).map { k -> Float in
                    let value = noise[o + map.firstPixel[k]], g = sum[k]
                    return min(eps, max(-eps, value - (g > 0 ? alpha : (g < 0 ? -alpha : 0))))
                }
                for j in 0..<size { noise[o + j] = stepped[map.parameter[j]] }
            }
        }
    }

    /// The noise to write with a decoy class (``UnlearnableSettings/decoyClass``): every other class's pattern
    /// raised to the L2 norm of the strongest one (scaled by the ratio of the norms, then clipped to ±ε, twenty
    /// times over, since clipping takes some of the gain back), the decoy's left at zero; so that the decoy's is
    /// the only weak pattern. Without a decoy, the noise as it is.
    public func evenedNoise() -> [Float] {
        guard let decoy else { return noise }
        let size = data.imageSize, eps = settings.epsilonUnit
        var evened = noise
        func norm(_ k: Int) -> Float { evened[(k * size)..<((k + 1) * size)].reduce(0) { $0 + $1 * $1 }.squareRoot() }
        let target = (0..<classCount).map(norm).max() ?? 0
        for k in 0..<classCount where k != decoy {
            for _ in 0..<20 {
                let current = norm(k)
                guard current > 0, current < target * 0.9999 else { break }
                let gain = target / current
                for j in (k * size)..<((k + 1) * size) { evened[j] = min(eps, max(-eps, evened[j] * gain)) }
            }
        }
        return evened
    }

    /// Step 3: the surrogate's error on the noisy generation set, in inference mode.
    public func surrogateError() -> Double {
        model.setTraining(false)
        var wrong = 0
        var begin = 0
        while begin < generationIndices.count {
            let indices = Array(generationIndices[begin..<min(begin + settings.batchSize, generationIndices.count)])
            begin += indices.count
            let predictions = argmaxRows(model(noisyBatch(indices)))
            wrong += zip(predictions, indices).filter { $0 != data.labels[$1] }.count
        }
        return Double(wrong) / Double(generationIndices.count)
    }

    /// Mean |clamp(x + δ, 0, 1) − x| over the generation set as a fraction of ε: how much of the budget the
    /// images actually show. Lower than ``budgetUse()`` wherever the noise points past 0 or 1.
    public func visibleChange() -> Double {
        let size = data.imageSize, eps = Double(settings.epsilonUnit)
        guard size > 0, eps > 0 else { return 0 }
        var sum = 0.0
        data.pixels.withUnsafeBufferPointer { x in
            noise.withUnsafeBufferPointer { d in
                for index in generationIndices {
                    let xo = index * size, no = noiseOffset(forImage: index)
                    var row: Float = 0
                    for j in 0..<size {
                        let v = x[xo + j]
                        row += abs(min(1, max(0, v + d[no + j])) - v)
                    }
                    sum += Double(row)
                }
            }
        }
        return sum / Double(generationIndices.count * size) / eps
    }

    /// Mean |δ| over the noise as a fraction of ε (how much of the budget the noise uses).
    public func budgetUse() -> Double {
        let eps = Double(settings.epsilonUnit)
        let sum = noise.reduce(0.0) { $0 + Double(abs($1)) }
        return noise.isEmpty ? 0 : sum / Double(noise.count) / eps
    }
}
