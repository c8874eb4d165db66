import Foundation
import Testing
@testable import CloakKit

@Suite("cloak verify verdicts and report")
struct VerdictAndReportTests {
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

    /// The headline is the countermeasure whose protected model learned most (best epoch), named with what it reached
    /// and the clean baseline's accuracy there, whichever order the countermeasures ran in.
    @Test func theHeadlineIsTheWorstCaseOverTheCountermeasures() {
        func curve(_ a: [Double]) -> TrainingCurve { TrainingCurve(accuracies: a, trainingLosses: a.map { _ in 1 }, seconds: 1) }
        func row(_ name: String, _ protected: [Double], _ clean: [Double]) -> CountermeasureResult {
            CountermeasureResult(countermeasure: name, protected: curve(protected), baseline: curve(clean),
                                 verdict: Verdict.judge(protected: curve(protected), baseline: curve(clean), chance: 0.1))
        }
        let rows = [row("none", [0.2, 0.15], [0.9, 0.92]), row("median", [0.7, 0.86], [0.88, 0.9]),
                    row("jpeg10", [0.5, 0.45], [0.8, 0.85])]
        let worst = WorstCase.of(rows)
        #expect(worst == WorstCase(countermeasure: "median", protectedAccuracy: 0.86, baselineAccuracy: 0.9, verdict: .broken))
        #expect(WorstCase.of([]) == nil)
        let result = VerificationResult(
            trainDataset: "p", baselineDataset: "c", testDataset: "t", model: "small", epochs: 2, seed: 0,
            classes: (0..<10).map { "c\($0)" }, trainCount: 100, testCount: 1000, chance: 0.1, rows: rows, worstCase: worst)
        let markdown = VerificationReport.markdown(result)
        #expect(markdown.contains("**Worst case of the 3 countermeasures run: `median`**: a model trained on the protected data "
                                  + "reaches 86.0% on clean test images (best epoch), against 90.0% from clean data (chance 10.0%): "
                                  + "the protection does NOT hold."), "\(markdown)")
        #expect(markdown.range(of: "Worst case")!.lowerBound < markdown.range(of: "| countermeasure |")!.lowerBound,
                "the headline comes before the table")
        #expect(VerificationReport.html(result, samples: []).contains("<code>median</code>"))
    }
}
