import CloakImage
import Foundation

/// The pieces the HTML reports are made of: a self-contained HTML5 page written well-formed (every element
/// closed, attributes quoted, text escaped), so that it also parses as XML; tables as `<table>` in a wrapper
/// that scrolls sideways when the table is wider than the page; pictures inline as PNG data.
enum ReportHTML {
    /// The style every report page starts with; a report adds its own rules after it.
    static let baseStyle = """
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
        code { background: #f3f3f3; padding: 0 .2em; }
        .table-scroll { overflow-x: auto; max-width: 100%; margin: .5em 0; }
        table { border-collapse: collapse; }
        td, th { border: 1px solid #ccc; padding: .3em .7em; text-align: right; }
        td { white-space: nowrap; } td:first-child, th:first-child { text-align: left; }
        th { background: #f5f5f5; vertical-align: bottom; }
        .broken { background: #fdd; } .weakened { background: #ffd; } .holds { background: #dfd; }
        .inconclusive, .unknown { background: #eee; }
        p.verdict { padding: .5em; border-left: 4px solid #999; }
        .grid figure { display: inline-block; margin: .3em; } .grid img { margin-right: 2px; border: 1px solid #ddd; }
        .missing { color: #a00; }
        """

    /// A complete page: doctype, head with charset, viewport, title and style, then `body` (markup).
    static func page(title: String, style: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>\(escape(title))</title>
        <style>
        \(baseStyle)
        \(style)
        </style>
        </head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// A table with one header row and one body row per entry of `rows`, every cell escaped, inside a
    /// wrapper that scrolls horizontally. `cellClass(row, column)` gives a cell a CSS class (a verdict).
    static func table(headers: [String], rows: [[String]], cellClass: (Int, Int) -> String? = { _, _ in nil }) -> String {
        var out = "<div class=\"table-scroll\"><table>\n<thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined()
            + "</tr></thead>\n<tbody>\n"
        for (i, row) in rows.enumerated() {
            out += "<tr>" + row.enumerated().map { j, cell in
                let attribute = cellClass(i, j).map { " class=\"\(escape($0))\"" } ?? ""
                return "<td\(attribute)>\(escape(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</tbody>\n</table></div>\n"
    }

    /// A paragraph of Markdown inline text (`**bold**`, `` `code` ``; line breaks kept), with an optional class.
    static func paragraph(_ markdown: String, class cssClass: String? = nil) -> String {
        let attribute = cssClass.map { " class=\"\(escape($0))\"" } ?? ""
        return "<p\(attribute)>" + inline(markdown) + "</p>\n"
    }

    /// Markdown inline text as escaped markup: `**bold**` as `<strong>`, `` `code` `` as `<code>`, line breaks
    /// as `<br/>`. A marker without a closing partner stays as text, so the markup is always well nested.
    static func inline(_ markdown: String) -> String {
        var out = "", rest = Substring(markdown), bold = false
        while let marker = rest.firstIndex(where: { $0 == "`" || $0 == "*" }) {
            out += escape(String(rest[..<marker]))
            rest = rest[marker...]
            if rest.hasPrefix("`"), let close = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(String(rest[rest.index(after: marker)..<close])) + "</code>"
                rest = rest[rest.index(after: close)...]
            } else if rest.hasPrefix("**"), bold || rest.dropFirst(2).contains("**") {
                out += bold ? "</strong>" : "<strong>"
                bold.toggle()
                rest = rest.dropFirst(2)
            } else {
                out += escape(String(rest.prefix(1)))
                rest = rest.dropFirst()
            }
        }
        out += escape(String(rest)) + (bold ? "</strong>" : "")
        return out.replacingOccurrences(of: "\n", with: "<br/>\n")
    }

    /// An `<img>` holding the image as PNG data, or a visible note where it could not be encoded.
    static func image(_ image: RGBImage, alt: String, cssClass: String? = nil) -> String {
        let attribute = cssClass.map { " class=\"\(escape($0))\"" } ?? ""
        do {
            let png = try ImageCodec.encode(image, as: .png)
            return "<img\(attribute) alt=\"\(escape(alt))\" width=\"\(image.width)\" height=\"\(image.height)\" "
                + "src=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>"
        } catch {
            return "<span class=\"missing\">(\(escape(alt)): could not be encoded, \(escape("\(error)")))</span>"
        }
    }

    /// Text or attribute value with `&`, `<`, `>`, `"` and `'` escaped.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
