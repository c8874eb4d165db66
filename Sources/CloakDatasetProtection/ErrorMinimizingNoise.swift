import CloakNN
import CloakSupport
import CloakTensor

/// The bi-level min-min optimisation of Unlearnable Examples (Huang et al., ICLR 2021) on data in memory.
///
/// Each round (``runRound()``):
/// 1. trains the surrogate for `trainSteps` batches of `clamp(x + δ, 0, 1)` (training mode, SGD, gradient
///    norm clipped), drawing batches from a seeded shuffled pass over the generation set that continues
///    across rounds;
/// 2. updates δ over the whole generation set (in a seeded order shuffled each round), batch by batch, with `pgdSteps` steps of sign-gradient
///    *descent* on the cross-entropy (surrogate in inference mode, parameters frozen, so no weight-gradient
///    work is done): `x' ← x' − α·sign(∇ₓ CE)`, `η = clamp(x' − x, −ε, ε)`, `x' = clamp(x + η, 0, 1)`,
///    starting from `clamp(x + δ, 0, 1)`.
///    Sample-wise, each image's δ becomes `x' − x` (indexed by the image, never by its class). Class-wise,
///    each class's δ becomes `clamp(mean of η over the batch's images of that class, −ε, ε)`, as the
///    reference code does (its `universal_perturbation`). The steps are ``ProjectedGradient``'s;
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
        /// show (noise that would push a black pixel below 0 counts for nothing).
        public var visibleChange: Double
        public var seconds: Double
    }

    /// - Parameters:
    ///   - noise: the state to continue from (a resumed run), or `nil` to start from zero noise (as the reference).
    ///   - round: rounds already completed (a resumed run).
    public init(settings: UnlearnableSettings, data: LabelledImages, classCount: Int, model: any Layer,
                optimizer: SGD, generationIndices: [Int], noise: [Float]? = nil, round: Int = 0) {
        precondition(!generationIndices.isEmpty, "noise generation needs at least one image")
        self.settings = settings
        self.data = data
        self.classCount = classCount
        self.model = model
        self.optimizer = optimizer
        self.generationIndices = generationIndices
        let size = (settings.mode == .class ? classCount : data.count) * data.imageSize
        if let noise {
            precondition(noise.count == size, "noise has \(noise.count) values, expected \(size)")
            self.noise = noise
        } else {
            self.noise = [Float](repeating: 0, count: size)
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
        let loss = trainSurrogate()
        updateNoise()
        round += 1
        let error = surrogateError()
        return RoundSummary(round: round, error: error, trainingLoss: loss, budgetUse: budgetUse(),
                            visibleChange: visibleChange(), seconds: monotonicSeconds() - start)
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
        let pgd = ProjectedGradient(epsilon: settings.epsilonUnit, stepSize: settings.stepUnit, steps: settings.pgdSteps,
                                    direction: .descent)
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
            let clean = cleanBatch(indices).scalars
            let walk = pgd.walk(model: model, clean: clean, from: noisyBatch(indices).scalars,
                                shape: [indices.count, data.height, data.width, data.channels], labels: labels)
            switch settings.mode {
            case .sample: setSamplePatterns(indices: indices, moved: walk.images, clean: clean)
            case .class: setClassPatterns(labels: labels, offsets: walk.offsets)
            }
        }
    }

    /// Sample-wise: each image's δ becomes its moved image minus the clean one.
    private func setSamplePatterns(indices: [Int], moved: [Float], clean: [Float]) {
        let size = data.imageSize
        for (row, index) in indices.enumerated() {
            let o = index * size, r = row * size
            for j in 0..<size { noise[o + j] = moved[r + j] - clean[r + j] }
        }
    }

    /// Class-wise: each class in the batch gets `clamp(mean of its images' offsets η, −ε, ε)`.
    private func setClassPatterns(labels: [Int], offsets eta: [Float]) {
        let size = data.imageSize, eps = settings.epsilonUnit
        var sums = [Int: [Float]](), counts = [Int: Int]()
        for (row, label) in labels.enumerated() {
            let r = row * size
            if sums[label] == nil { sums[label] = [Float](repeating: 0, count: size) }
            for j in 0..<size { sums[label]![j] += eta[r + j] }
            counts[label, default: 0] += 1
        }
        for (label, sum) in sums {
            let n = Float(counts[label]!), o = label * size
            for j in 0..<size { noise[o + j] = min(eps, max(-eps, sum[j] / n)) }
        }
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
