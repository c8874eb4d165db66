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
        let trainer = Trainer(
            model: model, optimizer: SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4),
            configuration: TrainingConfiguration(epochs: 2, batchSize: 64, schedule: CosineAnnealing(base: 0.05, period: 2)))
        let summaries = trainer.fit(train, evaluatingOn: test, using: &rng) { s in
            print("epoch \(s.epoch): lr \(s.learningRate) loss \(s.trainingLoss) train acc \(s.trainingAccuracy) "
                  + "test acc \(s.evaluationAccuracy ?? -1) (\(s.seconds) s)")
        }
        let accuracy = try #require(summaries.last?.evaluationAccuracy)
        #expect(accuracy >= 0.85, "test accuracy \(accuracy)")
        #expect(summaries[1].trainingLoss < summaries[0].trainingLoss)
    }
}
