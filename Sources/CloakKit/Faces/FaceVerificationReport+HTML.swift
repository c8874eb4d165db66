import CloakFace
import CloakImage
import Foundation

/// The HTML page of a face verification.
extension FaceVerificationReport {
    /// A self-contained HTML5 page with what the Markdown report says, in its order: the set-up, the per-photo
    /// table, the tracker test (as `<table>`s) and the verdict; then for each photo its face region, original,
    /// cloaked and their difference amplified, as PNG data.
    static func html(_ r: FaceVerification.Result, thumbnails: [Thumbnail]) -> String {
        var body = "<h1>Face cloak verification</h1>\n" + ReportHTML.paragraph(introduction(r))
        body += "<h2>Embedding shift per face (descriptor distance, original to cloaked copy)</h2>\n"
        let pairs = pairTable(r)
        body += ReportHTML.table(headers: pairs.headers, rows: pairs.rows)
        if !r.probes.isEmpty {
            body += "<h2>Tracker test</h2>\n" + ReportHTML.paragraph(trackerTestIntroduction)
            let probes = probeTable(r)
            body += ReportHTML.table(headers: probes.headers, rows: probes.rows)
            if let note = othersNote(r) { body += ReportHTML.paragraph(note) }
        }
        // After the tables, as in the Markdown report: the conclusion may refer to the problems listed above.
        body += ReportHTML.paragraph(conclusion(r), class: "verdict \(FaceVerification.verdict(r.probes).rawValue)")
        if !thumbnails.isEmpty {
            body += "<h2>Faces: original, cloaked, difference (x10)</h2>\n<div class=\"grid\">\n"
            for (i, t) in thumbnails.enumerated() { body += figure(t, number: i + 1) }
            body += "</div>\n"
        }
        return ReportHTML.page(title: "Cloak face verification", style: "", body: body)
    }

    /// The face's region (its box widened by half its longer side on each side, within the photo) of the
    /// original and of the cloaked copy, and their difference amplified, each at most 240 pixels on a side.
    static func figure(_ t: Thumbnail, number: Int) -> String {
        let g = max(t.box.width, t.box.height) / 2
        let region = FaceBox(left: t.box.left - g, top: t.box.top - g, right: t.box.right + g, bottom: t.box.bottom + g)
            .intersection(FaceBox(left: 0, top: 0, right: t.original.width - 1, bottom: t.original.height - 1))
        let a = FaceChipExtractor.crop(t.original, region), b = FaceChipExtractor.crop(t.cloaked, region)
        let images = [("original", a), ("cloaked", b), ("difference x10", RGBImage.amplifiedDifference(a, b))]
        return "<figure>" + images.map { ReportHTML.image($1.thumbnail(side: 240), alt: "face \(number), \($0)") }
            .joined() + "</figure>\n"
    }
}
