import CloakFace
import CloakImage
import CloakSupport
import Foundation

/// Markdown, JSON and HTML reports of a ``FaceVerification`` (the HTML page in FaceVerificationReport+HTML.swift).
public enum FaceVerificationReport {
    /// A face region of one pair, for the side-by-side pictures.
    struct Thumbnail {
        var original: RGBImage
        var cloaked: RGBImage
        var box: FaceBox
    }

    /// The plain-words conclusion.
    public static func conclusion(_ r: FaceVerification.Result) -> String {
        guard !r.probes.isEmpty else { return "**No face could be compared**: see the problems listed above." }
        if r.probes.count == 1 {
            return "**Tracker test not possible**: it needs at least two photos of the person (one enrolled, one probing)."
        }
        let matched = r.probes.filter { $0.matchesCloaked > 0 }.count
        let cleanMatched = r.probes.filter { $0.matchesClean > 0 }.count
        let threshold = String(format: "%.1f", r.threshold)
        let identified = r.probes.filter(\.identifiedAmongOthers).count
        switch FaceVerification.verdict(r.probes) {
        case .inconclusive:
            return "**Inconclusive**: a tracker that enrolled the cloaked photos matched none of the \(r.probes.count) clean "
                + "photos at dlib's \(threshold) threshold, but with the clean photos enrolled it "
                + "matched none either, so this test cannot show what the cloak does (are the photos all of one person, with "
                + "faces large and frontal enough to recognise?)."
        case .weakened:
            return "**Protection weakened**: a tracker that enrolled the cloaked photos matched none of the "
                + "\(r.probes.count) clean photos at dlib's \(threshold) threshold, but one that names the nearest of "
                + "the people it enrolled, however far, named this person for \(identified) of \(r.probes.count) "
                + "(the \(r.others.count) other \(r.others.count == 1 ? "person was" : "people were") farther away): "
                + "the cloak moved the faces away from the person, but not as far as to someone else "
                + "(a stronger cloak, `cloak faces --mode high`, moves them further)."
        case .holds:
            let untested = r.others.isEmpty
                ? " A tracker that names the nearest of the people it enrolled was not tested (it needs --others)." : ""
            return "**Protection holds**: a tracker that enrolled the cloaked photos matched none of the "
                + "\(r.probes.count) clean photos at dlib's \(threshold) threshold "
                + "(with the clean photos enrolled it would have matched \(cleanMatched) of \(r.probes.count))"
                + (r.others.isEmpty ? "." : ", and one that names the nearest enrolled person named someone else every time.")
                + untested
        case .broken:
            return "**Protection BROKEN**: a tracker that enrolled the cloaked photos matched \(matched) of the "
                + "\(r.probes.count) clean photos at dlib's \(threshold) threshold."
        }
    }

    public static func markdown(_ r: FaceVerification.Result) -> String {
        var out = "# Face cloak verification\n\n" + introduction(r) + "\n\n" + markdownTable(pairTable(r))
        if !r.probes.isEmpty {
            out += "\n" + trackerTestIntroduction + "\n\n" + markdownTable(probeTable(r))
            if let note = othersNote(r) { out += "\n" + note + "\n" }
        }
        return out + "\n" + conclusion(r) + "\n"
    }

    public static func json(_ r: FaceVerification.Result) throws -> String { try JSON.pretty(r) + "\n" }

    /// What was compared, in which run, how long it took (Markdown inline text).
    static func introduction(_ r: FaceVerification.Result) -> String {
        "Originals \(r.originals), cloaked copies \(r.cloaked) (run \(r.runID), "
            + "\(ProgressReporter.duration(r.seconds))). Faces detected and aligned independently on both, as a tracker would."
    }

    static let trackerTestIntroduction = "Tracker test (enrolled: the other photos' cloaked copies; probe: each clean photo):"

    /// Each face of each original and how far its descriptor moved on the cloaked copy; a pair that could
    /// not be measured takes one row with its problem.
    static func pairTable(_ r: FaceVerification.Result) -> (headers: [String], rows: [[String]]) {
        var rows: [[String]] = []
        for p in r.pairs {
            let name = (p.original as NSString).lastPathComponent
            if let problem = p.problem {
                rows.append([name, "-", problem])
                continue
            }
            for (i, f) in p.faces.enumerated() {
                rows.append([name, "\(i)", f.shift.map { String(format: "%.3f", $0) } ?? "not found on the cloaked copy"])
            }
        }
        return (["photo", "face", "embedding shift"], rows)
    }

    /// The tracker test, one row per clean probe; with other identities, the nearest of them and the
    /// identity a closed-set tracker names.
    static func probeTable(_ r: FaceVerification.Result) -> (headers: [String], rows: [[String]]) {
        var headers = ["clean probe", "nearest cloaked", "matches < \(String(format: "%.1f", r.threshold))", "nearest clean",
                       "clean matches"]
        if !r.others.isEmpty { headers += ["nearest other person", "nearest identity"] }
        let rows = r.probes.map { p in
            var cells = [(p.photo as NSString).lastPathComponent, d(p.nearestCloaked), "\(p.matchesCloaked)/\(p.gallerySize)",
                         d(p.nearestClean), "\(p.matchesClean)/\(p.gallerySize)"]
            if !r.others.isEmpty {
                cells += ["\(p.nearestOther ?? "-") (\(d(p.nearestOtherDistance)))",
                          "\(p.nearestIdentity ?? "-") (\(d(p.nearestIdentityDistance)))"]
            }
            return cells
        }
        return (headers, rows)
    }

    /// Names the other identities and says what `nearest identity` means, or `nil` without them.
    static func othersNote(_ r: FaceVerification.Result) -> String? {
        guard !r.others.isEmpty else { return nil }
        return "Other identities: " + r.others.keys.sorted().map { "\($0) (\(r.others[$0]!) photo(s))" }.joined(separator: ", ")
            + ". `nearest identity` is what a tracker that enrolled them and this person's cloaked photos answers "
            + "when it names the nearest enrolled person, however far (closed-set identification)."
    }

    static func markdownTable(_ table: (headers: [String], rows: [[String]])) -> String {
        "| " + table.headers.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: table.headers.count) + "\n"
            + table.rows.map { "| " + $0.joined(separator: " | ") + " |\n" }.joined()
    }

    /// Writes report.md, report.json and report.html into `folder` (created), each atomically.
    static func write(_ r: FaceVerification.Result, thumbnails: [Thumbnail], to folder: String) throws {
        try writeFileAtomically(Array(markdown(r).utf8), to: folder + "/report.md", createParentDirectories: true)
        try writeFileAtomically(Array(json(r).utf8), to: folder + "/report.json")
        try writeFileAtomically(Array(html(r, thumbnails: thumbnails).utf8), to: folder + "/report.html")
    }

    static func d(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
}
