import CloakFace
import CloakImage
import CloakSupport
import Foundation

/// Markdown, JSON and HTML reports of a ``FaceVerification``.
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
        var out = "# Face cloak verification\n\nOriginals \(r.originals), cloaked copies \(r.cloaked) (run \(r.runID), "
            + "\(ProgressReporter.duration(r.seconds))). Faces detected and aligned independently on both, as a tracker would.\n\n"
        out += "| photo | face | embedding shift |\n|---|---|---|\n"
        for p in r.pairs {
            let name = (p.original as NSString).lastPathComponent
            if let problem = p.problem {
                out += "| \(name) | - | \(problem) |\n"
                continue
            }
            for (i, f) in p.faces.enumerated() {
                out += "| \(name) | \(i) | " + (f.shift.map { String(format: "%.3f", $0) } ?? "not found on the cloaked copy") + " |\n"
            }
        }
        if !r.probes.isEmpty {
            out += "\nTracker test (enrolled: the other photos' cloaked copies; probe: each clean photo):\n\n"
            out += "| clean probe | nearest cloaked | matches < \(String(format: "%.1f", r.threshold)) | nearest clean | clean matches |"
            out += r.others.isEmpty ? "\n|---|---|---|---|---|\n" : " nearest other person | nearest identity |\n|---|---|---|---|---|---|---|\n"
            for p in r.probes {
                out += "| \((p.photo as NSString).lastPathComponent) | \(d(p.nearestCloaked)) | \(p.matchesCloaked)/\(p.gallerySize)"
                out += " | \(d(p.nearestClean)) | \(p.matchesClean)/\(p.gallerySize) |"
                if !r.others.isEmpty {
                    out += " \(p.nearestOther ?? "-") (\(d(p.nearestOtherDistance))) | \(p.nearestIdentity ?? "-") (\(d(p.nearestIdentityDistance))) |"
                }
                out += "\n"
            }
            if !r.others.isEmpty {
                out += "\nOther identities: " + r.others.keys.sorted().map { "\($0) (\(r.others[$0]!) photo(s))" }.joined(separator: ", ")
                    + ". `nearest identity` is what a tracker that enrolled them and this person's cloaked photos answers "
                    + "when it names the nearest enrolled person, however far (closed-set identification).\n"
            }
        }
        return out + "\n" + conclusion(r) + "\n"
    }

    public static func json(_ r: FaceVerification.Result) throws -> String { try JSON.pretty(r) + "\n" }

    static func html(_ r: FaceVerification.Result, thumbnails: [Thumbnail]) -> String {
        let md = markdown(r)
        var body = "<h1>Face cloak verification</h1>\n"
        body += "<p class=\"verdict \(FaceVerification.verdict(r.probes).rawValue)\">"
            + VerificationReport.escape(conclusion(r).replacingOccurrences(of: "**", with: "")) + "</p>\n"
        body += "<pre>" + VerificationReport.escape(md) + "</pre>\n"
        if !thumbnails.isEmpty {
            body += "<h2>Faces: original, cloaked, difference (x10)</h2>\n<div class=\"grid\">\n"
            for t in thumbnails {
                let g = max(t.box.width, t.box.height) / 2
                let region = FaceBox(left: t.box.left - g, top: t.box.top - g, right: t.box.right + g, bottom: t.box.bottom + g)
                    .intersection(FaceBox(left: 0, top: 0, right: t.original.width - 1, bottom: t.original.height - 1))
                let a = FaceChipExtractor.crop(t.original, region), b = FaceChipExtractor.crop(t.cloaked, region)
                body += "<figure>"
                for image in [a, b, VerificationReport.amplifiedDifference(a, b)] {
                    body += VerificationReport.img(PhotoCloak.thumbnail(image, side: 240))
                }
                body += "</figure>\n"
            }
            body += "</div>\n"
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Cloak face verification</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; max-width: 70em; color: #222; }
            pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
            .broken { background: #fdd; } .weakened { background: #ffd; } .holds { background: #dfd; }
            p.verdict { padding: .5em; border-left: 4px solid #999; }
            .grid figure { margin: .5em 0; } .grid img { margin-right: 4px; border: 1px solid #ddd; }
            </style></head><body>
            \(body)</body></html>

            """
    }

    /// Writes report.md, report.json and report.html into `folder` (created), each atomically.
    static func write(_ r: FaceVerification.Result, thumbnails: [Thumbnail], to folder: String) throws {
        try writeFileAtomically(Array(markdown(r).utf8), to: folder + "/report.md", createParentDirectories: true)
        try writeFileAtomically(Array(json(r).utf8), to: folder + "/report.json")
        try writeFileAtomically(Array(html(r, thumbnails: thumbnails).utf8), to: folder + "/report.html")
    }

    static func d(_ v: Double?) -> String { v.map { String(format: "%.3f", $0) } ?? "-" }
}
