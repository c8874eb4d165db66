#if canImport(Glibc)
import CloakSupport
import CloakTensor
import Glibc
#else
import Darwin
#endif

/// Settings of a supervised training run.
public struct TrainingConfiguration: Sendable {
    /// The number of passes over the training data.
    public var epochs: Int
    /// Examples per optimiser step (the last batch may be smaller unless `dropLastBatch`).
    public var batchSize: Int
    /// Learning rate per epoch (set on the optimiser at the start of each epoch), or per step when
    /// `schedulePerStep` is true (the schedule is then indexed by the global step count from 0).
    public var schedule: any LearningRateSchedule
    /// Index `schedule` by the global step instead of the epoch.
    public var schedulePerStep: Bool
    /// Clip the global gradient norm to this value before each step (`nil`: no clipping).
    public var gradientClipNorm: Float?
    /// Augmentation applied to every training batch (`nil`: none).
    public var augmentation: Augmentation?
    /// Drop the last incomplete batch (PyTorch's `drop_last`).
    public var dropLastBatch: Bool
    /// How many times per epoch the evaluation set is measured: after the epoch's last batch and, when
    /// greater than 1, also at evenly spaced batches within it (see ``checkpointBatches(inEpochOf:)``).
    /// Evaluating runs in inference mode and changes nothing in the training, so the weights after each
    /// epoch do not depend on this setting.
    public var evaluationsPerEpoch: Int = 1

    /// Creates a configuration; `epochs` and `batchSize` must be positive.
    public init(epochs: Int, batchSize: Int, schedule: any LearningRateSchedule, gradientClipNorm: Float? = nil,
                augmentation: Augmentation? = nil, dropLastBatch: Bool = false, schedulePerStep: Bool = false) {
        precondition(epochs > 0 && batchSize > 0, "Epochs and batch size must be positive")
        self.epochs = epochs
        self.batchSize = batchSize
        self.schedule = schedule
        self.gradientClipNorm = gradientClipNorm
        self.augmentation = augmentation
        self.dropLastBatch = dropLastBatch
        self.schedulePerStep = schedulePerStep
    }

    /// Optimiser steps per epoch for a data set of `count` examples.
    public func stepsPerEpoch(count: Int) -> Int {
        dropLastBatch ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// The numbers of completed batches after which an epoch of `count` examples is evaluated before its
    /// end: `k * steps / evaluationsPerEpoch` (rounded down) for `k = 1 ..< evaluationsPerEpoch`, without
    /// repeats and without 0 or the last batch (the end-of-epoch evaluation). Empty for one evaluation.
    public func checkpointBatches(inEpochOf count: Int) -> [Int] {
        guard evaluationsPerEpoch > 1 else { return [] }
        let steps = stepsPerEpoch(count: count)
        var points: [Int] = []
        for k in 1..<evaluationsPerEpoch {
            let b = k * steps / evaluationsPerEpoch
            if b > 0, b < steps, points.last != b { points.append(b) }
        }
        return points
    }
}

/// What happened in one epoch; passed to the per-epoch callback.
public struct EpochSummary: Sendable {
    /// Epoch index, from 0.
    public let epoch: Int
    /// The optimiser's learning rate at the end of the epoch.
    public let learningRate: Float
    /// Mean cross-entropy over the epoch's batches.
    public let trainingLoss: Double
    /// Accuracy on the (augmented) training batches, in training mode.
    public let trainingAccuracy: Double
    /// Accuracy on the evaluation set in inference mode, if one was given.
    public let evaluationAccuracy: Double?
    /// Wall-clock duration of the epoch, including evaluation.
    public let seconds: Double
    /// Accuracy on the evaluation set at each check within the epoch, in order, ending with
    /// `evaluationAccuracy` (one entry unless `TrainingConfiguration.evaluationsPerEpoch` > 1; empty
    /// without an evaluation set).
    public let checkAccuracies: [Double]

    /// A summary of one epoch; `checkAccuracies` must end with `evaluationAccuracy` when there is one.
    public init(epoch: Int, learningRate: Float, trainingLoss: Double, trainingAccuracy: Double,
                evaluationAccuracy: Double?, seconds: Double, checkAccuracies: [Double]) {
        self.epoch = epoch
        self.learningRate = learningRate
        self.trainingLoss = trainingLoss
        self.trainingAccuracy = trainingAccuracy
        self.evaluationAccuracy = evaluationAccuracy
        self.seconds = seconds
        self.checkAccuracies = checkAccuracies
    }
}

/// Trains a classifier with softmax cross-entropy: epochs of seeded shuffled mini-batches, optional augmentation,
/// gradient clipping, a learning-rate schedule, evaluation after each epoch and a per-epoch callback.
public final class Trainer {
    /// The classifier being trained: images `[N, H, W, C]` → logits `[N, K]`.
    public let model: any Layer
    /// Updates `model.parameters` after every batch; its learning rate is set from the schedule.
    public let optimizer: any Optimizer
    /// The run's settings.
    public let configuration: TrainingConfiguration

    /// Creates a trainer; nothing runs until `step(images:labels:)` or `fit`.
    public init(model: any Layer, optimizer: any Optimizer, configuration: TrainingConfiguration) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
    }

    /// One optimisation step on a batch (`[N, H, W, C]` images): forward in training mode, cross-entropy,
    /// backward, optional clipping, optimiser update. Returns the loss and the number of correct predictions.
    @discardableResult
    public func step(images: Tensor, labels: [Int]) -> (loss: Float, correct: Int) {
        model.setTraining(true)
        model.zeroGradients()
        let logits = model(images)
        let loss = softmaxCrossEntropy(logits: logits, labels: labels)
        _ = model.backward(loss.gradient, needsInputGradient: false)
        let parameters = model.parameters
        if let maxNorm = configuration.gradientClipNorm { clipGradientNorm(parameters, maxNorm: maxNorm) }
        optimizer.step(parameters)
        let correct = zip(argmaxRows(logits), labels).filter { $0 == $1 }.count
        return (loss.loss, correct)
    }

    /// Runs `configuration.epochs` epochs over `data` and returns one summary per epoch.
    ///
    /// - Parameters:
    ///   - evaluationData: if given, accuracy on it is measured after every epoch (and
    ///     `configuration.evaluationsPerEpoch - 1` more times within it).
    ///   - generator: drives shuffling, augmentation and `transformBatch`; the same seed gives the same run.
    ///   - epochs: which epochs to run (default all, `0..<configuration.epochs`). A training resumed after
    ///     epoch k runs `k..<configuration.epochs` on the model, optimiser and generator saved then: the
    ///     learning-rate schedule and the batch order continue as if it had never stopped.
    ///   - onEpoch: called after each epoch (for progress output and provenance).
    ///   - saveState: called after `onEpoch` with the epoch's summary and the generator as it stands,
    ///     to save what a resumed training needs.
    ///   - transformBatch: replaces each (augmented) batch of images `[N, H, W, C]`, given its labels, before
    ///     the step: adversarial training's attack, for one.
    @discardableResult
    public func fit<Generator: RandomNumberGenerator>(
        _ data: LabelledImages, evaluatingOn evaluationData: LabelledImages? = nil, epochs: Range<Int>? = nil,
        using generator: inout Generator, onEpoch: (EpochSummary) -> Void = { _ in },
        savingStateAfterEpoch saveState: ((EpochSummary, Generator) -> Void)? = nil,
        transformingBatches transformBatch: ((Tensor, [Int], inout Generator) -> Tensor)? = nil
    ) -> [EpochSummary] {
        precondition(data.count > 0, "Training data is empty")
        let epochs = epochs ?? 0..<configuration.epochs
        precondition(epochs.lowerBound >= 0 && epochs.upperBound <= configuration.epochs,
                     "epochs \(epochs) outside 0..<\(configuration.epochs)")
        var summaries: [EpochSummary] = []
        let batchSize = configuration.batchSize
        let batchesPerEpoch = configuration.dropLastBatch ? data.count / batchSize : (data.count + batchSize - 1) / batchSize
        var globalStep = epochs.lowerBound * batchesPerEpoch
        for epoch in epochs {
            let start = monotonicSeconds()
            optimizer.learningRate = configuration.schedule.learningRate(at: epoch)
            let order = seededPermutation(count: data.count, using: &generator)
            let checkpoints = evaluationData == nil ? [] : configuration.checkpointBatches(inEpochOf: data.count)
            var checks: [Double] = []
            var totalLoss = 0.0, correct = 0, seen = 0, batches = 0
            var begin = 0
            while begin < order.count {
                let end = min(begin + batchSize, order.count)
                if configuration.dropLastBatch && end - begin < batchSize { break }
                var (images, labels) = data.batch(Array(order[begin..<end]))
                if let augmentation = configuration.augmentation {
                    images = augmentation.apply(to: images, using: &generator)
                }
                if let transformBatch { images = transformBatch(images, labels, &generator) }
                if configuration.schedulePerStep {
                    optimizer.learningRate = configuration.schedule.learningRate(at: globalStep)
                }
                let result = step(images: images, labels: labels)
                globalStep += 1
                totalLoss += Double(result.loss)
                correct += result.correct
                seen += labels.count
                batches += 1
                begin = end
                if let evaluationData, checkpoints.contains(batches) {
                    checks.append(evaluateAccuracy(of: model, on: evaluationData, batchSize: max(batchSize, 256)))
                }
            }
            let accuracy = evaluationData.map { evaluateAccuracy(of: model, on: $0, batchSize: max(batchSize, 256)) }
            let summary = EpochSummary(
                epoch: epoch, learningRate: optimizer.learningRate, trainingLoss: totalLoss / Double(max(batches, 1)),
                trainingAccuracy: Double(correct) / Double(max(seen, 1)), evaluationAccuracy: accuracy,
                seconds: monotonicSeconds() - start, checkAccuracies: accuracy.map { checks + [$0] } ?? [])
            summaries.append(summary)
            onEpoch(summary)
            saveState?(summary, generator)
        }
        return summaries
    }
}

/// Fraction of `data` that `model` classifies correctly, in inference mode (running batch-norm statistics).
/// Leaves the model in inference mode.
public func evaluateAccuracy(of model: any Layer, on data: LabelledImages, batchSize: Int = 256) -> Double {
    let predicted = predictions(of: model, on: data, batchSize: batchSize)
    return Double(zip(predicted, data.labels).filter { $0 == $1 }.count) / Double(max(data.count, 1))
}

/// The class `model` predicts (argmax of its logits) for each image of `data`, in order, in inference mode
/// (running batch-norm statistics). Leaves the model in inference mode.
public func predictions(of model: any Layer, on data: LabelledImages, batchSize: Int = 256) -> [Int] {
    model.setTraining(false)
    var predicted: [Int] = []
    predicted.reserveCapacity(data.count)
    var begin = 0
    while begin < data.count {
        let end = min(begin + batchSize, data.count)
        predicted += argmaxRows(model(data.batch(Array(begin..<end)).images))
        begin = end
    }
    return predicted
}

/// Confusion matrix of `model` on `data`: `matrix[trueClass][predictedClass]` counts images, for classes
/// `0..<classCount` (the model's output width). Inference mode; leaves the model in inference mode.
public func confusionMatrix(of model: any Layer, on data: LabelledImages, classCount: Int, batchSize: Int = 256) -> [[Int]] {
    precondition(data.classCount <= classCount, "labels go up to \(data.classCount - 1), beyond \(classCount) classes")
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
    for (label, predicted) in zip(data.labels, predictions(of: model, on: data, batchSize: batchSize)) {
        matrix[label][predicted] += 1
    }
    return matrix
}

