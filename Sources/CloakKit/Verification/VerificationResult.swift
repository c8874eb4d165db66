import Foundation

/// Accuracy curve of one model trained from scratch and tested on clean data.
public struct TrainingCurve: Codable, Sendable, Equatable {
    /// Clean-test accuracy (0...1) after each epoch.
    public var accuracies: [Double]
    /// Training loss after each epoch (mean over batches).
    public var trainingLosses: [Double]
    public var seconds: Double
    /// The final model's confusion matrix on the clean test set: `finalConfusion[trueClass][predictedClass]`
    /// counts test images. `nil` in reports made before it was recorded.
    public var finalConfusion: [[Int]]?
    /// Clean-test accuracy at every check, per epoch (`checkAccuracies[e]` ends with `accuracies[e]`), when
    /// the model was checked more than once per epoch (`cloak verify --checks-per-epoch`); else `nil`.
    public var checkAccuracies: [[Double]]?
    /// The earlier run that trained this model, when this verification reused it instead of training it
    /// again (same data, settings and tool version: training is deterministic, so the same curve); `nil`:
    /// trained by this run.
    public var reusedFromRun: Int64?

    public init(accuracies: [Double], trainingLosses: [Double], seconds: Double, finalConfusion: [[Int]]? = nil,
                checkAccuracies: [[Double]]? = nil, reusedFromRun: Int64? = nil) {
        self.accuracies = accuracies
        self.trainingLosses = trainingLosses
        self.seconds = seconds
        self.finalConfusion = finalConfusion
        self.checkAccuracies = checkAccuracies
        self.reusedFromRun = reusedFromRun
    }

    public var final: Double { accuracies.last ?? 0 }
    /// The best epoch's clean-test accuracy (measured after each epoch).
    public var best: Double { accuracies.max() ?? 0 }
    /// The best clean-test accuracy at any check, within or at the end of an epoch (``best`` when
    /// checked once per epoch).
    public var bestCheck: Double { max(best, checkAccuracies?.joined().max() ?? 0) }

    /// Final clean-test accuracy of each class (0...1; 0 for a class without test images).
    public var perClassAccuracy: [Double]? {
        finalConfusion.map { m in m.indices.map { c in Double(m[c][c]) / Double(max(1, m[c].reduce(0, +))) } }
    }

    /// Share of the clean test images the final model assigns to each class (0...1).
    public var predictionShares: [Double]? {
        finalConfusion.map { m in
            let total = Double(max(1, m.joined().reduce(0, +)))
            return m.indices.map { c in Double(m.reduce(0) { $0 + $1[c] }) / total }
        }
    }
}

/// How a protection fared under one countermeasure.
public enum Verdict: String, Codable, Sendable, Comparable {
    /// The model trained on protected data stays near chance on clean data.
    case holds
    /// The model learns a good part of what it would learn from clean data.
    case weakened
    /// The model learns (almost) as much as from clean data: the protection does not hold.
    case broken
    /// Nothing to judge by: no clean baseline, or one that did not clearly beat chance
    /// (``Verdict/clearlyAboveChance(_:chance:testImages:)``).
    case unknown

    private var rank: Int { [.holds: 0, .unknown: 1, .weakened: 2, .broken: 3][self]! }
    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }

    /// The verdict for a protected model's training curve against the clean baseline's, judged on the
    /// **best** check of each (the best epoch when checked once per epoch): whoever trains on protected
    /// data can keep a few clean labelled images aside and keep the weights that did best on them, so a
    /// protection that only holds by the last epoch does not hold.
    public static func judge(protected: TrainingCurve, baseline: TrainingCurve?, chance: Double,
                             testImages: Int? = nil) -> Verdict {
        judge(protected: protected.bestCheck, baseline: baseline?.bestCheck, chance: chance, testImages: testImages)
    }

    /// Whether a clean baseline's accuracy is clearly above chance, so that a protected model's accuracy can
    /// be judged against it: by at least 5 points, and by at least 3 standard errors of a chance-level score
    /// on `testImages` images (`sqrt(chance·(1 − chance)/n)`; 36 images at chance 1/3 need 23.6 points, the
    /// 10,000 of Fashion-MNIST's test set 0.9). Below that, a verdict would rest on a handful of test images:
    /// a baseline that learned nearly nothing makes any protected model look protective.
    public static func clearlyAboveChance(_ baseline: Double, chance: Double, testImages: Int?) -> Bool {
        let standardError = testImages.map { sqrt(chance * (1 - chance) / Double(max(1, $0))) } ?? 0
        return baseline - chance >= max(0.05, 3 * standardError)
    }

    /// The verdict for one protected accuracy against the clean baseline's.
    ///
    /// With `gain = (protected - chance) / (baseline - chance)`, the share of the clean model's
    /// above-chance accuracy that the protected model still reaches: `broken` when gain >= 0.8,
    /// `weakened` when gain >= 0.35, `holds` below. These thresholds are deliberately strict on the
    /// protection: a report never calls protection "holding" when a model learns a third of the task.
    /// `unknown` without a baseline or with one that is not
    /// ``clearlyAboveChance(_:chance:testImages:)`` (`testImages`: the size of the clean test set, `nil`: only
    /// the 5-point margin is required).
    public static func judge(protected: Double, baseline: Double?, chance: Double, testImages: Int? = nil) -> Verdict {
        guard let baseline, clearlyAboveChance(baseline, chance: chance, testImages: testImages) else { return .unknown }
        let gain = (protected - chance) / (baseline - chance)
        if gain >= 0.8 { return .broken }
        if gain >= 0.35 { return .weakened }
        return .holds
    }
}

/// One countermeasure's row of a verification: the protected set and the clean baseline, each trained
/// from scratch under that countermeasure.
public struct CountermeasureResult: Codable, Sendable {
    public var countermeasure: String
    public var protected: TrainingCurve
    public var baseline: TrainingCurve?
    public var verdict: Verdict
}

/// The headline of a verification: the countermeasure whose protected model learned most, what it reached (best
/// check) against the clean baseline under the same countermeasure, and the verdict there.
public struct WorstCase: Codable, Sendable, Equatable {
    public var countermeasure: String
    public var protectedAccuracy: Double
    public var baselineAccuracy: Double?
    public var verdict: Verdict

    /// The row with the highest protected best-check accuracy (the first on ties, in the order run); `nil` without rows.
    public static func of(_ rows: [CountermeasureResult]) -> WorstCase? {
        guard let worst = rows.max(by: { $0.protected.bestCheck < $1.protected.bestCheck }) else { return nil }
        let first = rows.first { $0.protected.bestCheck == worst.protected.bestCheck } ?? worst
        return WorstCase(countermeasure: first.countermeasure, protectedAccuracy: first.protected.bestCheck,
                         baselineAccuracy: first.baseline?.bestCheck, verdict: first.verdict)
    }
}

/// Everything `cloak verify` measured.
public struct VerificationResult: Codable, Sendable {
    public var trainDataset: String
    public var baselineDataset: String?
    public var testDataset: String
    public var model: String
    public var epochs: Int
    public var seed: UInt64
    public var classes: [String]
    public var trainCount: Int
    public var testCount: Int
    public var chance: Double
    public var rows: [CountermeasureResult]
    public var runID: Int64?
    /// Clean-test checks per epoch (`nil`: 1, as in reports made before the option existed).
    public var checksPerEpoch: Int?
    /// Partial protection measured: the fraction of the protected training images replaced by their clean
    /// originals (`cloak verify --clean-fraction`); `nil`: none.
    public var cleanFraction: Double? = nil
    /// Input files that could not be read and were left out, each "path: reason" (`nil` or empty: none).
    public var unreadableFiles: [String]? = nil
    /// Countermeasures asked for but not run because they change nothing on this data (`grayscale` on grey
    /// images); `nil`: every one asked for was run.
    public var notRun: [String]? = nil

    /// The countermeasure under which the model trained on the protected data reached the highest clean-test
    /// accuracy (best check): the attacker picks the recipe, so this is the headline.
    public var worstCase: WorstCase? = nil

    /// Whether the models were also checked within epochs (`cloak verify --checks-per-epoch` above 1).
    public var checkedWithinEpochs: Bool { (checksPerEpoch ?? 1) > 1 }

    /// The worst verdict over all countermeasures: what the protection is worth.
    public var overall: Verdict { rows.map(\.verdict).max() ?? .unknown }
}
