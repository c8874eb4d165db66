import CloakTensor
import Testing
@testable import CloakNN

@Suite("Convergence on Fashion-MNIST")
struct ConvergenceTests {
    @Test("SmallCNN, fixed seed, 10k training images, 2 epochs: at least 85% on the 10k test set",
          .enabled(if: FashionMNIST.isAvailable, "Fashion-MNIST not found in /usr/share/datasets/fashion-mnist (make setup installs dataset-fashion-mnist)"))
    func smallCNNLearnsFashionMNIST() throws {
        let train = try FashionMNIST.load("train", limit: 10_000)
        let test = try FashionMNIST.load("t10k")
        var rng = SplitMix64(seed: 2024)
        let model = SmallCNN(inputChannels: 1, classCount: 10, using: &rng)
        // Adam with a per-step cosine decay to zero: the weights settle at the end, so the batch-norm running
        // statistics used for evaluation match them (with a constant rate, test accuracy in inference mode lags
        // the batch-statistics accuracy by 10+ points after 2 epochs). Measured: 86.3% with this seed.
        let trainer = Trainer(
            model: model, optimizer: Adam(learningRate: 1e-3),
            configuration: TrainingConfiguration(epochs: 2, batchSize: 64,
                                                 schedule: CosineAnnealing(base: 2e-3, period: 2 * 157),
                                                 schedulePerStep: true))
        let summaries = trainer.fit(train, evaluatingOn: test, using: &rng) { s in
            print("epoch \(s.epoch): lr \(s.learningRate) loss \(s.trainingLoss) train acc \(s.trainingAccuracy) "
                  + "test acc \(s.evaluationAccuracy ?? -1) (\(s.seconds) s)")
        }
        let accuracy = try #require(summaries.last?.evaluationAccuracy)
        #expect(accuracy >= 0.85, "test accuracy \(accuracy)")
        #expect(summaries[1].trainingLoss < summaries[0].trainingLoss)
    }
}

@Suite("Evaluation")
struct EvaluationTests {
    /// Flatten of a 1x1 image with 3 channels: each image's logits are its channels, so the prediction is
    /// its brightest channel.
    @Test func confusionMatrixCountsTrueAgainstPredictedClassesAcrossBatches() {
        let pixels: [Float] = [1, 0, 0,  0, 1, 0,  0, 0, 1,  0, 1, 0,  1, 0, 0]
        let data = LabelledImages(pixels: pixels, labels: [0, 0, 2, 1, 2], height: 1, width: 1, channels: 3)
        let model = Flatten()
        #expect(predictions(of: model, on: data, batchSize: 2) == [0, 1, 2, 1, 0])
        #expect(confusionMatrix(of: model, on: data, classCount: 3, batchSize: 2) == [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
        #expect(abs(evaluateAccuracy(of: model, on: data, batchSize: 2) - 0.6) < 1e-12)
    }

    @Test func checkpointBatchesAreEvenlySpacedWithinTheEpoch() {
        var c = TrainingConfiguration(epochs: 1, batchSize: 10, schedule: ConstantLearningRate(0.1))
        #expect(c.checkpointBatches(inEpochOf: 95) == [])                // 10 batches, checked at the end only
        c.evaluationsPerEpoch = 4
        #expect(c.checkpointBatches(inEpochOf: 95) == [2, 5, 7])         // then the end, after batch 10
        c.evaluationsPerEpoch = 30
        #expect(c.checkpointBatches(inEpochOf: 30) == [1, 2])            // never more than one per batch
    }

    /// Checking within the epoch measures more often and changes nothing else: the same seed gives the same
    /// weights and the same end-of-epoch accuracies with one check per epoch as with three.
    @Test func checksWithinAnEpochLeaveTheTrainingUnchanged() throws {
        var data = SplitMix64(seed: 5)
        let count = 40
        let labels = (0..<count).map { $0 % 2 }
        let pixels = (0..<count * 4).map { i in Float(labels[i / 4]) * 0.3 + Float.random(in: 0..<1, using: &data) }
        let train = LabelledImages(pixels: pixels, labels: labels, height: 2, width: 2, channels: 1)
        func run(checks: Int) -> (summaries: [EpochSummary], weights: [Float]) {
            var rng = SplitMix64(seed: 9)
            // Batch norm: a check runs in inference mode, and training must still use batch statistics after it.
            let model = Sequential([BatchNorm2D(featureCount: 1), Flatten(), Linear(inputCount: 4, outputCount: 2, using: &rng)])
            var configuration = TrainingConfiguration(epochs: 2, batchSize: 8, schedule: ConstantLearningRate(0.5))
            configuration.evaluationsPerEpoch = checks
            let summaries = Trainer(model: model, optimizer: SGD(learningRate: 0.5), configuration: configuration)
                .fit(train, evaluatingOn: train, using: &rng)
            return (summaries, model.parameters.flatMap { $0.parameter.value.scalars })
        }
        let once = run(checks: 1), thrice = run(checks: 3)
        #expect(once.weights == thrice.weights && !once.weights.isEmpty)
        #expect(once.summaries.map(\.evaluationAccuracy) == thrice.summaries.map(\.evaluationAccuracy))
        #expect(once.summaries.map(\.checkAccuracies.count) == [1, 1])
        #expect(thrice.summaries.map(\.checkAccuracies.count) == [3, 3])
        #expect(thrice.summaries.map { $0.checkAccuracies.last } == thrice.summaries.map(\.evaluationAccuracy))
    }
}
