import CloakDatasetProtection
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The min-min rounds of ``ErrorMinimizingNoise`` for one job, resumed from and saved to its state folder after
/// every round (``UnlearnableState``), until the surrogate's error is below the stop error.
struct NoiseGeneration {
    let input: UnlearnableInput
    let settings: UnlearnableSettings
    let jobKey: String
    let stateFolder: String
    let quiet: Bool
    /// Test hook: stop (as an interruption would) after this many rounds of this invocation.
    let stopAfterRounds: Int?

    /// What the rounds made.
    struct Outcome {
        var noise: [Float]
        var history: [ErrorMinimizingNoise.RoundSummary]
        var rounds: Int
        var seconds: Double
        /// The surrogate's checkpoint of the last round, in the state folder.
        var surrogatePath: String
    }

    func run(run: RecordedRun) throws -> Outcome {
        let began = monotonicSeconds()
        let (generator, restored) = try makeGenerator()
        var state = restored
        var history = state?.history ?? []
        if let s = state { log("resuming at round \(s.round) (surrogate error \(String(format: "%.4f", history.last?.error ?? 1)))") }
        log("\(settings.mode.rawValue)-wise noise, eps \(settings.epsilon)/255, \(generator.generationIndices.count) of "
            + "\(input.data.count) images \(input.data.width)x\(input.data.height)x\(input.data.channels), surrogate "
            + "\(settings.model.rawValue), stop error \(settings.stopError)")
        var roundsThisInvocation = 0
        while !(state?.finished ?? false) && !(history.last.map { $0.error < settings.stopError } ?? false) {
            guard generator.round < settings.maxRounds else {
                throw UnlearnableError.stopErrorNotReached(rounds: generator.round, error: history.last?.error ?? 1,
                                                           stopError: settings.stopError)
            }
            let summary = generator.runRound()
            history.append(summary)
            let reached = summary.error < settings.stopError
            state = try UnlearnableState.save(generator, history: history, jobKey: jobKey, finished: reached, in: stateFolder)
            logRound(summary, generationImages: generator.generationIndices.count, rounds: generator.round, reached: reached)
            roundsThisInvocation += 1
            if let stop = stopAfterRounds, roundsThisInvocation >= stop, !reached {
                try run.finish(.interrupted, message: "stopped after round \(generator.round) (test hook)")
                throw UnlearnableJob.Stopped()
            }
        }
        return Outcome(noise: generator.noise, history: history, rounds: generator.round,
                       seconds: monotonicSeconds() - began, surrogatePath: state!.surrogatePath(in: stateFolder))
    }

    /// The generator: fresh, or restored from the last completed round of this job's saved state.
    private func makeGenerator() throws -> (ErrorMinimizingNoise, UnlearnableState?) {
        let data = input.data
        let model = SurrogateModels.make(settings.model, inputChannels: data.channels, classCount: input.classCount,
                                         seed: settings.seed)
        let optimizer = SGD(learningRate: Float(settings.learningRate), momentum: Float(settings.momentum),
                            weightDecay: Float(settings.weightDecay))
        let state = try UnlearnableState.load(from: stateFolder)
        if let s = state, s.jobKey != jobKey {
            throw UnlearnableError.stateMismatch(path: stateFolder, reason: "it belongs to a job with other data or settings")
        }
        let noise = try state.map { try $0.restore(into: model, optimizer: optimizer, from: stateFolder) }
        let generationIndices = settings.mode == .class
            ? ErrorMinimizingNoise.subset(count: data.count, fraction: settings.subset, seed: settings.seed)
            : Array(0..<data.count)
        let generator = ErrorMinimizingNoise(
            settings: settings, data: data, classCount: input.classCount, model: model, optimizer: optimizer,
            generationIndices: generationIndices, noise: noise, round: state?.round ?? 0)
        return (generator, state)
    }

    private func logRound(_ summary: ErrorMinimizingNoise.RoundSummary, generationImages: Int, rounds: Int, reached: Bool) {
        let rate = Double(generationImages) / max(summary.seconds, 1e-9)
        let left = settings.maxRounds - rounds
        let ending = reached ? "; stop error reached"
            : "; ETA: error < \(settings.stopError), or at most \(left) more round(s), "
                + "~\(ProgressReporter.duration(Double(left) * summary.seconds))"
        log(String(format: "round %d: surrogate error %.4f (train loss %.3f), noise %.0f%% of eps (images show %.0f%%), %.0f images/s, %@",
                   summary.round, summary.error, summary.trainingLoss, summary.budgetUse * 100, summary.visibleChange * 100,
                   rate, ProgressReporter.duration(summary.seconds)) + ending)
    }

    private func log(_ line: String) { if !quiet { StandardError.print(line) } }
}
