import Foundation

/// Failures of `cloak verify`.
public enum VerifyError: Error, LocalizedError, Equatable {
    /// The test or baseline folder (`path`) does not hold the training folder's classes, in the same order.
    case classMismatch(path: String, classes: [String], trainPath: String, trainClasses: [String])
    /// `--clean-fraction` without `--baseline`: there are no clean originals to mix in.
    case cleanFractionNeedsBaseline
    /// `--clean-fraction` needs more clean originals (same relative path in the baseline) than there are.
    case tooFewCleanOriginals(baseline: String, needed: Int, found: Int)
    /// Every countermeasure asked for would change nothing on this data (`grayscale` on grey images).
    case nothingToMeasure(path: String, countermeasures: [String])
    /// The report folder holds a `report.*` file that is not a Cloak verification report.
    case foreignReportFile(path: String)

    public var errorDescription: String? {
        switch self {
        case .classMismatch(let path, let classes, let trainPath, let trainClasses):
            let missing = trainClasses.filter { !classes.contains($0) }, extra = classes.filter { !trainClasses.contains($0) }
            var why: [String] = []
            if !missing.isEmpty { why.append("no images of " + missing.joined(separator: ", ")) }
            if !extra.isEmpty { why.append("classes the training data lacks: " + extra.joined(separator: ", ")) }
            return "\(path): its classes (\(classes.joined(separator: ", "))) are not those of \(trainPath) "
                + "(\(trainClasses.joined(separator: ", ")))" + (why.isEmpty ? "" : "; " + why.joined(separator: "; "))
                + ". Classes are the sub-folders that hold images; every folder needs the same ones"
        case .cleanFractionNeedsBaseline:
            return "`cleanFraction` needs `baselineFolder`: the clean originals of the protected images"
        case .nothingToMeasure(let path, let countermeasures):
            return "\(path): the images are grey, so " + countermeasures.joined(separator: ", ")
                + " would change nothing and no model was trained; ask for other countermeasures (none, jpeg10, augment, "
                + "adversarial)"
        case .foreignReportFile(let path):
            return "\(path): not a report cloak verify wrote, and the report would replace it; choose another `reportFolder`"
        case .tooFewCleanOriginals(let baseline, let needed, let found):
            return "\(baseline): `cleanFraction` needs the clean originals of \(needed) protected images (same relative "
                + "path, any extension), and only \(found) are there"
        }
    }
}
