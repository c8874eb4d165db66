import CloakImage
import Foundation

/// The HTML page of a verification: the table, the accuracy plot and the sample grid.
extension VerificationReport {
    /// A self-contained HTML page: the table, an accuracy-per-epoch plot (inline SVG) and a grid of
    /// sample images (original, protected, difference amplified), embedded as PNG data.
    public static func html(_ r: VerificationResult, samples: [(original: RGBImage, protected: RGBImage)]) -> String {
        var body = "<h1>Cloak verification</h1>\n"
        body += "<p>" + escape(markdownInline(r)) + "</p>\n"
        for note in [partialProtectionNote(r), reuseNote(r), notRunNote(r)].compactMap({ $0 }) {
            body += "<p>" + escape(note).replacingOccurrences(of: "`", with: "") + "</p>\n"
        }
        if let unreadable = r.unreadableFiles, !unreadable.isEmpty {
            body += "<p>\(unreadable.count) input file(s) could not be read and were left out:</p>\n<ul>"
                + unreadable.map { "<li>" + escape($0) + "</li>" }.joined() + "</ul>\n"
        }
        body += "<p class=\"verdict \(r.overall.rawValue)\">" + escape(conclusion(r).replacingOccurrences(of: "**", with: ""))
            .replacingOccurrences(of: "\n", with: "<br>") + "</p>\n"
        let table = summaryTable(r)
        body += "<table><tr>" + table.headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in table.rows {
            body += "<tr>" + row.cells.dropLast().map { "<td>\(escape($0))</td>" }.joined()
            body += "<td class=\"\(row.verdict.rawValue)\">\(escape(row.cells.last ?? ""))</td></tr>\n"
        }
        body += "</table>\n<h2>Clean-test accuracy per epoch</h2>\n" + plot(r) + "\n"
        let columns = perClassColumns(r)
        if !columns.isEmpty {
            body += "<h2>Clean-test accuracy per class, final epoch</h2>\n<table><tr><th>class</th>"
            body += columns.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr>\n"
            for (c, name) in r.classes.enumerated() {
                body += "<tr><td>\(escape(name))</td>" + columns.map { "<td>\(pct($0.values[c]))</td>" }.joined() + "</tr>\n"
            }
            body += "</table>\n"
            for note in catchAllNotes(r) {
                body += "<p>" + escape(note).replacingOccurrences(of: "`", with: "") + "</p>\n"
            }
        }
        if !samples.isEmpty {
            body += "<h2>Samples: original, protected, difference (amplified)</h2>\n<div class=\"grid\">\n"
            for s in samples {
                body += "<figure>" + img(s.original) + img(s.protected) + img(amplifiedDifference(s.original, s.protected)) + "</figure>\n"
            }
            body += "</div>\n"
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Cloak verification</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
            table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3em .7em; text-align: right; }
            td:first-child, th:first-child { text-align: left; }
            .broken { background: #fdd; } .weakened { background: #ffd; } .holds { background: #dfd; }
            p.verdict { padding: .5em; border-left: 4px solid #999; }
            .grid figure { display: inline-block; margin: .3em; } .grid img { width: 84px; height: 84px;
              image-rendering: pixelated; margin-right: 2px; border: 1px solid #ddd; }
            </style></head><body>
            \(body)</body></html>

            """
    }

    /// The accuracy curves as an SVG line chart: solid lines protected, dashed lines clean baseline; with
    /// checks within epochs, a thin line through every check, from the start of training.
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
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-size=\"11\">\n"
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg += "<line x1=\"\(left)\" y1=\"\(y(tick))\" x2=\"\(left + pw)\" y2=\"\(y(tick))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(Int(tick * 100))%</text>\n"
        }
        for e in (checked ? -1 : 0)..<epochs {
            svg += "<text x=\"\(x(e))\" y=\"\(top + ph + 15)\" text-anchor=\"middle\">\(e + 1)</text>"
        }
        svg += "<text x=\"\(left + pw / 2)\" y=\"\(h - 5)\" text-anchor=\"middle\">epoch</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(y(r.chance))\" x2=\"\(left + pw)\" y2=\"\(y(r.chance))\" stroke=\"#999\" stroke-dasharray=\"2,3\"/>"
        svg += "<text x=\"\(left + pw + 5)\" y=\"\(y(r.chance) + 4)\">chance</text>\n"
        for (i, row) in r.rows.enumerated() {
            let colour = colours[i % colours.count]
            for (curve, dash, name) in [(row.protected, "", "protected"), (row.baseline, "6,4", "clean")] {
                guard let curve, !curve.accuracies.isEmpty else { continue }
                let points = curve.accuracies.enumerated().map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"\(dash)\" points=\"\(points)\"/>\n"
                if let checks = curve.checkAccuracies {
                    let fine = checks.enumerated().flatMap { e, values in
                        values.enumerated().map { k, a in "\(x(trained: Double(e) + Double(k + 1) / Double(values.count))),\(y(a))" }
                    }.joined(separator: " ")
                    svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1\" stroke-opacity=\"0.45\" "
                        + "stroke-dasharray=\"\(dash)\" points=\"\(fine)\"/>\n"
                }
                let lastY = y(curve.final)
                svg += "<text x=\"\(left + pw + 5)\" y=\"\(lastY + 4)\" fill=\"\(colour)\">\(escape(row.countermeasure)) \(name)</text>\n"
            }
        }
        return svg + "</svg>"
    }

    /// |protected - original| scaled so the budget's extreme is white (x10, clamped).
    public static func amplifiedDifference(_ a: RGBImage, _ b: RGBImage) -> RGBImage {
        precondition(a.width == b.width && a.height == b.height, "difference of differently sized images")
        var p = [UInt8](repeating: 0, count: a.pixels.count)
        for i in p.indices {
            p[i] = UInt8(min(255, abs(Int(a.pixels[i]) - Int(b.pixels[i])) * 10))
        }
        return RGBImage(width: a.width, height: a.height, pixels: p)
    }

    static func img(_ image: RGBImage) -> String {
        let png = (try? ImageCodec.encode(image, as: .png)) ?? []
        return "<img alt=\"\" src=\"data:image/png;base64,\(Data(png).base64EncodedString())\">"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
