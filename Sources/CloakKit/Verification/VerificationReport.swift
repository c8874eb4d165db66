import CloakSupport
import Foundation

/// Markdown, JSON and HTML renderings of a ``VerificationResult``.
public enum VerificationReport {
    /// The summary printed on standard output.
    public static func markdown(_ r: VerificationResult) -> String {
        var out = "## Verification: \(r.trainDataset)\n\n"
        out += setUp(r) + "\n\n"
        if let note = partialProtectionNote(r) { out += note + "\n\n" }
        if let note = reuseNote(r) { out += note + "\n\n" }
        if let note = notRunNote(r) { out += note + "\n\n" }
        if let unreadable = r.unreadableFiles, !unreadable.isEmpty {
            out += "\(unreadable.count) input file(s) could not be read and were left out:\n"
            for message in unreadable.prefix(10) { out += "- \(message)\n" }
            if unreadable.count > 10 { out += "- and \(unreadable.count - 10) more (`cloak history`, report.json)\n" }
            out += "\n"
        }
        if let headline = worstCaseLine(r) { out += headline + "\n\n" }
        let table = summaryTable(r)
        out += "| " + table.headers.joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---:|", count: table.headers.count - 2) + "---|\n"
        for row in table.rows { out += "| " + row.cells.joined(separator: " | ") + " |\n" }
        out += "\n" + conclusion(r) + "\n"
        let columns = perClassColumns(r)
        if !columns.isEmpty {
            out += "\n### Clean-test accuracy per class, final epoch\n\n"
            out += "| class | " + columns.map(\.title).joined(separator: " | ") + " |\n"
            out += "|---|" + String(repeating: "---:|", count: columns.count) + "\n"
            for (c, name) in r.classes.enumerated() {
                out += "| \(name) | " + columns.map { pct($0.values[c]) }.joined(separator: " | ") + " |\n"
            }
            let notes = catchAllNotes(r)
            if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        }
        return out
    }

    /// The countermeasure table shared by the Markdown and HTML renderings: final and best-epoch accuracy
    /// of the protected and the baseline model, their best check when checked more than once per epoch,
    /// and the verdict (always the last cell).
    static func summaryTable(_ r: VerificationResult) -> (headers: [String], rows: [(cells: [String], verdict: Verdict)]) {
        let checked = r.checkedWithinEpochs
        var headers = ["countermeasure", "protected: final", "protected: best epoch"]
        if checked { headers.append("protected: best check") }
        headers += ["clean baseline: final", "clean baseline: best epoch"]
        if checked { headers.append("clean baseline: best check") }
        headers.append("verdict")
        let rows = r.rows.map { row in
            var cells = [row.countermeasure, pct(row.protected.final), pct(row.protected.best)]
            if checked { cells.append(pct(row.protected.bestCheck)) }
            cells += [row.baseline.map { pct($0.final) } ?? "-", row.baseline.map { pct($0.best) } ?? "-"]
            if checked { cells.append(row.baseline.map { pct($0.bestCheck) } ?? "-") }
            cells.append(label(row))
            return (cells: cells, verdict: row.verdict)
        }
        return (headers, rows)
    }

    /// Per-class final accuracies, one column per curve that recorded them: protected and baseline for
    /// each countermeasure.
    static func perClassColumns(_ r: VerificationResult) -> [(title: String, values: [Double])] {
        var columns: [(title: String, values: [Double])] = []
        for row in r.rows {
            for (curve, name) in [(row.protected, "protected"), (row.baseline, "baseline")] {
                guard let values = curve?.perClassAccuracy, values.count >= r.classes.count else { continue }
                columns.append(("\(row.countermeasure): \(name)", values))
            }
        }
        return columns
    }

    /// Where the model trained on protected data sends most clean test images to a few classes (each
    /// receiving at least twice its fair share), a sentence saying so and how much of the accuracy those
    /// classes make: a catch-all class scores high without the model telling its images apart.
    static func catchAllNotes(_ r: VerificationResult) -> [String] {
        let k = r.classes.count
        guard k >= 3 else { return [] }
        var notes: [String] = []
        for row in r.rows {
            guard let shares = row.protected.predictionShares, let accuracy = row.protected.perClassAccuracy,
                  let m = row.protected.finalConfusion, shares.count >= k else { continue }
            let piles = (0..<k).filter { shares[$0] >= 2 / Double(k) }.sorted { shares[$0] > shares[$1] }
            guard !piles.isEmpty else { continue }
            let total = Double(max(1, m.joined().reduce(0, +)))
            let fromPiles = Double(piles.reduce(0) { $0 + m[$1][$1] }) / total
            let others = (0..<k).filter { !piles.contains($0) }
            let othersMean = others.isEmpty ? 0 : others.reduce(0.0) { $0 + accuracy[$1] } / Double(others.count)
            let named = piles.map { "`\(r.classes[$0])` (\(pct(shares[$0])) of the images, \(pct(accuracy[$0])) of its own)" }
            notes.append("Under `\(row.countermeasure)` the model trained on the protected data puts most clean test images "
                + "into \(named.joined(separator: " and ")): these catch-all classes make "
                + String(format: "%.1f points", fromPiles * 100) + " of its \(pct(row.protected.final)) final accuracy; "
                + "the other classes average \(pct(othersMean)).")
        }
        return notes
    }

    /// The headline: the countermeasure under which the model trained on the protected data learned most, with what it
    /// reached against the clean baseline and the verdict there; `nil` for a result without rows.
    static func worstCaseLine(_ r: VerificationResult) -> String? {
        guard let w = r.worstCase ?? WorstCase.of(r.rows) else { return nil }
        let check = r.checkedWithinEpochs ? "best check" : "best epoch"
        let against = w.baselineAccuracy.map { ", against \(pct($0)) from clean data" } ?? ""
        let verdict: String
        switch w.verdict {
        case .broken: verdict = "the protection does NOT hold"
        case .weakened: verdict = "the protection is weakened"
        case .holds: verdict = "the protection holds even there"
        case .unknown: verdict = "inconclusive"
        }
        let of = r.rows.count > 1 ? " of the \(r.rows.count) countermeasures run" : ""
        return "**Worst case\(of): `\(w.countermeasure)`**: a model trained on the protected data reaches "
            + "\(pct(w.protectedAccuracy)) on clean test images (\(check))\(against) (chance \(pct(r.chance))): \(verdict)."
    }

    /// One plain sentence per outcome; a countermeasure that breaks the protection is always named.
    public static func conclusion(_ r: VerificationResult) -> String {
        let broken = r.rows.filter { $0.verdict == .broken }.map(\.countermeasure)
        let weakened = r.rows.filter { $0.verdict == .weakened }.map(\.countermeasure)
        let holds = r.rows.filter { $0.verdict == .holds }.map(\.countermeasure)
        var lines: [String] = []
        if !broken.isEmpty {
            lines.append("**The protection does NOT hold** under \(list(broken)): a model trained on the protected data "
                + "learns nearly as much as from clean data.")
        }
        if !weakened.isEmpty {
            lines.append("**The protection is weakened** under \(list(weakened)): a model still learns a substantial part of the task.")
        }
        if !holds.isEmpty {
            lines.append("The protection holds under \(list(holds)) (clean-test accuracy stays near chance compared with the clean baseline).")
        }
        let unjudged = r.rows.filter { $0.verdict == .unknown }
        if !unjudged.isEmpty && r.baselineDataset == nil {
            lines.append("No clean baseline was given (--baseline), so the numbers above cannot be judged.")
        } else if !unjudged.isEmpty {
            let scores = unjudged.map { "\(pct($0.baseline?.bestCheck ?? 0)) under `\($0.countermeasure)`" }
            lines.append("**Inconclusive** under \(list(unjudged.map(\.countermeasure))): the clean baseline reached only "
                + scores.joined(separator: ", ") + " against \(pct(r.chance)) by chance on \(r.testCount) test images, "
                + "too close to chance to judge a protection by (a model that learns nothing from clean data makes any "
                + "protection look good). Train longer (--epochs), or test on more images.")
        }
        if r.checkedWithinEpochs {
            lines.append("Verdicts compare the best of \(r.checksPerEpoch!) clean-test checks per epoch (a trainer can keep the weights that do "
                + "best on a few clean images).")
        } else {
            lines.append("Verdicts compare best epochs (a trainer can stop at the epoch that does best on a few clean images); "
                + "within an epoch the accuracy can swing higher, which `--checks-per-epoch` measures.")
        }
        lines.append("Only the countermeasures listed were tried; others (stronger augmentation, purification) may break it too.")
        return lines.joined(separator: "\n")
    }

    public static func json(_ r: VerificationResult) throws -> String {
        try JSON.pretty(r) + "\n"
    }

    /// Throws ``VerifyError/foreignReportFile(path:)`` when `folder` holds report files that are not an earlier
    /// report of `cloak verify` (which a new report replaces): a `report.json` that does not read as a
    /// verification result, or a `report.md` or `report.html` without one.
    static func checkFolder(_ folder: String) throws {
        let present = ["report.json", "report.md", "report.html"].map { folder + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        guard let first = present.first else { return }
        // Fields every version's report.json has, so a report of an older version is recognised too.
        struct Probe: Decodable { var model: String; var epochs: Int; var chance: Double; var classes: [String] }
        let json = folder + "/report.json"
        guard let data = FileManager.default.contents(atPath: json),
              (try? JSONDecoder().decode(Probe.self, from: data)) != nil else {
            throw VerifyError.foreignReportFile(path: present.contains(json) ? json : first)
        }
    }

    /// The sentence that says how the model was trained and tested (Markdown inline text).
    static func setUp(_ r: VerificationResult) -> String {
        "Model `\(r.model)` trained from scratch for \(r.epochs) epoch(s) (seed \(r.seed)) on \(r.trainCount) "
            + "training images, tested on \(r.testCount) clean images of `\(r.testDataset)` "
            + "(\(r.classes.count) classes, chance \(pct(r.chance)))."
    }

    /// Says that the protected model trained on partly clean data (`--clean-fraction`), or `nil`.
    static func partialProtectionNote(_ r: VerificationResult) -> String? {
        guard let fraction = r.cleanFraction, fraction > 0 else { return nil }
        return "Partial protection: \(pct(fraction)) of the protected training images, chosen at random, were replaced by "
            + "their clean originals from `\(r.baselineDataset ?? "the baseline")` before training (`--clean-fraction`)."
    }

    /// Names the countermeasures asked for but not run (they change nothing on this data), or `nil`.
    static func notRunNote(_ r: VerificationResult) -> String? {
        guard let notRun = r.notRun, !notRun.isEmpty else { return nil }
        return "Not run: " + notRun.map { "`\($0)`" }.joined(separator: ", ")
            + " (the images are grey already, so it would change nothing)."
    }

    /// Names the models reused from earlier runs rather than trained again.
    static func reuseNote(_ r: VerificationResult) -> String? {
        let reused = r.rows.flatMap { row in
            [("protected", row.protected), ("clean baseline", row.baseline)].compactMap { label, curve in
                curve?.reusedFromRun.map { "the \(label) model under `\(row.countermeasure)` (run \($0))" }
            }
        }
        guard !reused.isEmpty else { return nil }
        return "Reused, not trained again: " + reused.joined(separator: ", ") + ". An earlier run trained "
            + (reused.count == 1 ? "it" : "them") + " on the same data with the same settings and tool version, "
            + "and training is deterministic, so the curve is the one a new training would give (`--retrain` trains again)."
    }

    static func label(_ row: CountermeasureResult) -> String {
        switch row.verdict {
        case .holds: return "holds"
        case .weakened: return "WEAKENED"
        case .broken: return "BROKEN"
        case .unknown: return row.baseline == nil ? "no baseline" : "inconclusive"
        }
    }

    static func pct(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }

    static func list(_ items: [String]) -> String { items.map { "`\($0)`" }.joined(separator: ", ") }
}
