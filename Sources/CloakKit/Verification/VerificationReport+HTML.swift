import CloakImage
import Foundation

/// The HTML page of a verification: the tables, the accuracy plot and the sample grid.
extension VerificationReport {
    /// A self-contained HTML5 page with what the Markdown report says, in its order: the set-up, the notes, the
    /// countermeasure table, the verdict and the per-class table (as `<table>`s); besides, an accuracy-per-epoch
    /// plot (inline SVG) and a grid of sample images (original, protected, difference amplified) as PNG data.
    public static func html(_ r: VerificationResult, samples: [(original: RGBImage, protected: RGBImage)]) -> String {
        var body = "<h1>Cloak verification: " + ReportHTML.escape(r.trainDataset) + "</h1>\n"
        body += ReportHTML.paragraph(setUp(r) + (r.baselineDataset.map { " Clean baseline: `\($0)`." } ?? ""))
        for note in [partialProtectionNote(r), reuseNote(r), notRunNote(r)].compactMap({ $0 }) {
            body += ReportHTML.paragraph(note)
        }
        if let unreadable = r.unreadableFiles, !unreadable.isEmpty {
            body += "<p>\(unreadable.count) input file(s) could not be read and were left out:</p>\n<ul>\n"
                + unreadable.map { "<li>" + ReportHTML.escape($0) + "</li>\n" }.joined() + "</ul>\n"
        }
        if let headline = worstCaseLine(r) {
            body += ReportHTML.paragraph(headline, class: "verdict \((r.worstCase ?? WorstCase.of(r.rows))?.verdict.rawValue ?? "unknown")")
        }
        let table = summaryTable(r)
        body += ReportHTML.table(headers: table.headers, rows: table.rows.map(\.cells)) { i, j in
            j == table.headers.count - 1 ? table.rows[i].verdict.rawValue : nil
        }
        // After the table, as in the Markdown report: the conclusion refers to "the numbers above".
        body += ReportHTML.paragraph(conclusion(r), class: "verdict \(r.overall.rawValue)")
        body += "<h2>Clean-test accuracy per epoch</h2>\n<div class=\"table-scroll\">" + plot(r) + "</div>\n"
        let columns = perClassColumns(r)
        if !columns.isEmpty {
            body += "<h2>Clean-test accuracy per class, final epoch</h2>\n"
            body += ReportHTML.table(headers: ["class"] + columns.map(\.title), rows: r.classes.enumerated().map { c, name in
                [name] + columns.map { pct($0.values[c]) }
            })
            for note in catchAllNotes(r) { body += ReportHTML.paragraph(note) }
        }
        if !samples.isEmpty {
            body += "<h2>Samples: original, protected, difference (amplified x10)</h2>\n<div class=\"grid\">\n"
            for (i, s) in samples.enumerated() {
                let images = [("original", s.original), ("protected", s.protected),
                              ("difference x10", RGBImage.amplifiedDifference(s.original, s.protected))]
                body += "<figure>" + images.map { ReportHTML.image($1, alt: "sample \(i + 1), \($0)", cssClass: "sample") }
                    .joined() + "</figure>\n"
            }
            body += "</div>\n"
        }
        let style = ".grid img.sample { width: 84px; height: 84px; image-rendering: pixelated; }"
        return ReportHTML.page(title: "Cloak verification: \(r.trainDataset)", style: style, body: body)
    }

    /// The accuracy curves as an SVG line chart: solid lines protected, dashed lines clean baseline; with
    /// checks within epochs, a thin line through every check, from the start of training. Each curve is
    /// named at the right of its last point, the names moved apart where they would overlap.
    static func plot(_ r: VerificationResult) -> String {
        let w = 640.0, h = 320.0, left = 50.0, bottom = 40.0, top = 15.0, right = 150.0
        let pw = w - left - right, ph = h - top - bottom
        let epochs = max(1, r.epochs)
        let checked = r.checkedWithinEpochs
        let start = checked ? 0.0 : 1.0    // the first position on the axis, in epochs trained
        func x(trained position: Double) -> Double {
            left + (Double(epochs) == start ? pw / 2 : (position - start) / (Double(epochs) - start) * pw)
        }
        func x(_ e: Int) -> Double { x(trained: Double(e + 1)) }    // after epoch index e
        func y(_ a: Double) -> Double { top + (1 - a) * ph }
        func point(_ x: Double, _ y: Double) -> String { coordinate(x) + "," + coordinate(y) }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
            + "viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-size=\"11\" role=\"img\">\n"
            + "<title>Clean-test accuracy per epoch: solid protected, dashed clean baseline</title>\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg += line(from: (left, y(tick)), to: (left + pw, y(tick)), stroke: "#eee")
            svg += text("\(Int((tick * 100).rounded()))%", at: (left - 6, y(tick) + 4), anchor: "end")
        }
        for e in (checked ? -1 : 0)..<epochs { svg += text("\(e + 1)", at: (x(e), top + ph + 15), anchor: "middle") }
        svg += text("epoch", at: (left + pw / 2, h - 5), anchor: "middle")
        svg += line(from: (left, y(r.chance)), to: (left + pw, y(r.chance)), stroke: "#999", dashes: "2,3")
        var labels = [(y: y(r.chance), text: "chance", colour: "#222")]
        for (i, row) in r.rows.enumerated() {
            let colour = colours[i % colours.count]
            for (curve, dash, name) in [(row.protected, "", "protected"), (row.baseline, "6,4", "clean")] {
                guard let curve, !curve.accuracies.isEmpty else { continue }
                let dashes = dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\""
                let points = curve.accuracies.enumerated().map { point(x($0.offset), y($0.element)) }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dashes) points=\"\(points)\"/>\n"
                if let checks = curve.checkAccuracies {
                    let fine = checks.enumerated().flatMap { e, values in
                        values.enumerated().map { k, a in point(x(trained: Double(e) + Double(k + 1) / Double(values.count)), y(a)) }
                    }.joined(separator: " ")
                    svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1\" stroke-opacity=\"0.45\"\(dashes) "
                        + "points=\"\(fine)\"/>\n"
                }
                labels.append((y(curve.final), "\(row.countermeasure) \(name)", colour))
            }
        }
        for label in spreadApart(labels, gap: 12, limit: top + ph) {
            svg += text(label.text, at: (left + pw + 5, label.y + 4), fill: label.colour)
        }
        return svg + "</svg>"
    }

    /// The labels sorted top to bottom, each moved down as little as needed to be `gap` below the one above,
    /// then, where that pushed them past `limit`, moved up again from the bottom.
    static func spreadApart(_ labels: [(y: Double, text: String, colour: String)], gap: Double, limit: Double)
        -> [(y: Double, text: String, colour: String)] {
        var placed = labels.sorted { $0.y < $1.y }
        for i in placed.indices.dropFirst() { placed[i].y = max(placed[i].y, placed[i - 1].y + gap) }
        if let last = placed.indices.last { placed[last].y = min(placed[last].y, limit) }
        for i in placed.indices.dropLast().reversed() { placed[i].y = min(placed[i].y, placed[i + 1].y - gap) }
        return placed
    }

    static func line(from a: (Double, Double), to b: (Double, Double), stroke: String, dashes: String? = nil) -> String {
        "<line x1=\"\(coordinate(a.0))\" y1=\"\(coordinate(a.1))\" x2=\"\(coordinate(b.0))\" y2=\"\(coordinate(b.1))\" "
            + "stroke=\"\(stroke)\"" + (dashes.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>\n"
    }

    /// An SVG text element, its content escaped.
    static func text(_ content: String, at p: (Double, Double), anchor: String? = nil, fill: String? = nil) -> String {
        "<text x=\"\(coordinate(p.0))\" y=\"\(coordinate(p.1))\""
            + (anchor.map { " text-anchor=\"\($0)\"" } ?? "") + (fill.map { " fill=\"\($0)\"" } ?? "")
            + ">" + ReportHTML.escape(content) + "</text>\n"
    }

    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }
}
