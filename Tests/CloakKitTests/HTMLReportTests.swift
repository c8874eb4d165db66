import CloakFace
import CloakImage
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import CloakKit

/// The HTML reports of `cloak verify` and `cloak verify faces` are real HTML: they parse as XML, their tables
/// are `<table>` elements, the plot is SVG and the pictures are PNG data that decodes.
@Suite("HTML reports")
struct HTMLReportTests {
    @Test func verificationReportIsWellFormedHTMLWithTablesPlotAndPictures() throws {
        let r = Self.verificationResult()
        let samples = [Self.image(width: 6, height: 5, seed: 1), Self.image(width: 6, height: 5, seed: 2)]
            .map { (original: $0, protected: Self.nudged($0)) }
        let html = VerificationReport.html(r, samples: samples)
        let page = try ParsedPage(html)

        #expect(page.root == "html" && page.elements["head"] == 1 && page.elements["body"] == 1)
        // The countermeasure table and the per-class table, each with one header row.
        try #require(page.tables.count == 2, "\(page.tables)")
        #expect(page.tables[0].headerRows == 1 && page.tables[0].bodyRows == r.rows.count && page.tables[0].strayRows == 0)
        #expect(page.tables[0].headerCells == VerificationReport.summaryTable(r).headers)
        #expect(page.tables[1].headerRows == 1 && page.tables[1].bodyRows == r.classes.count && page.tables[1].strayRows == 0)
        #expect(page.tables[1].headerCells.first == "class")
        #expect(page.tables.allSatisfy { $0.inScrollingWrapper }, "wide tables scroll instead of being cut off")
        #expect(page.style.contains("overflow-x: auto"))
        #expect(page.preTexts.allSatisfy { !Self.holdsMarkdownTable($0) })
        // Escaped cells come back as the class names themselves.
        #expect(page.text.contains("T-shirt & <top>"))
        #expect(page.elements["svg"] == 1 && page.elements["polyline", default: 0] >= 4)
        // Every sample as original, protected and amplified difference, decoded back to the same pixels.
        let pictures = try page.decodedImages()
        let expected = samples.flatMap { [$0.original, $0.protected, RGBImage.amplifiedDifference($0.original, $0.protected)] }
        #expect(pictures == expected)
        Self.expectContent(of: VerificationReport.markdown(r), in: page)
    }

    @Test func faceVerificationReportIsWellFormedHTMLWithTablesAndPictures() throws {
        let r = Self.faceResult()
        let photos = [(Self.image(width: 40, height: 40, seed: 3), FaceBox(left: 10, top: 10, right: 29, bottom: 29)),
                      (Self.image(width: 40, height: 40, seed: 4), FaceBox(left: 8, top: 5, right: 37, bottom: 34))]
        // Each box widened by half its side covers the whole 40 x 40 photo, so the crops are the photos.
        let thumbnails = photos.map { FaceVerificationReport.Thumbnail(original: $0.0, cloaked: Self.nudged($0.0), box: $0.1) }
        let html = FaceVerificationReport.html(r, thumbnails: thumbnails)
        let page = try ParsedPage(html)

        #expect(page.root == "html" && page.elements["head"] == 1 && page.elements["body"] == 1)
        // The per-photo table (a problem pair takes one row, the others one row per face) and the tracker test.
        try #require(page.tables.count == 2, "\(page.tables)")
        let faceRows = r.pairs.map { $0.problem == nil ? $0.faces.count : 1 }.reduce(0, +)
        #expect(page.tables[0].headerCells == ["photo", "face", "embedding shift"])
        #expect(page.tables[0].headerRows == 1 && page.tables[0].bodyRows == faceRows && page.tables[0].strayRows == 0)
        #expect(page.tables[1].headerCells.count == 7 && page.tables[1].headerCells.first == "clean probe")
        #expect(page.tables[1].headerRows == 1 && page.tables[1].bodyRows == r.probes.count && page.tables[1].strayRows == 0)
        #expect(page.tables.allSatisfy { $0.inScrollingWrapper }, "wide tables scroll instead of being cut off")
        #expect(page.style.contains("overflow-x: auto"))
        #expect(page.elements["pre", default: 0] == 0 || page.preTexts.allSatisfy { !Self.holdsMarkdownTable($0) })
        #expect(page.text.contains("a&b <1>.jpg"))
        let pictures = try page.decodedImages()
        let expected = thumbnails.flatMap { [$0.original, $0.cloaked, RGBImage.amplifiedDifference($0.original, $0.cloaked)] }
        #expect(pictures == expected)
        Self.expectContent(of: FaceVerificationReport.markdown(r), in: page)
    }

    /// Every number and verdict word of the Markdown report is in the HTML page's text.
    static func expectContent(of markdown: String, in page: ParsedPage) {
        let numbers = Set(numberTokens(markdown)).subtracting(numberTokens(page.text))
        #expect(numbers.isEmpty, "numbers of the Markdown report missing from the HTML: \(numbers.sorted())")
        for word in ["holds", "WEAKENED", "BROKEN", "inconclusive", "Inconclusive", "no baseline", "weakened"]
        where markdown.contains(word) {
            #expect(page.text.contains(word), "\(word)")
        }
    }

    static func numberTokens(_ s: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: "[0-9]+(\\.[0-9]+)?%?")
        return regex.matches(in: s, range: NSRange(s.startIndex..., in: s)).map { String(s[Range($0.range, in: s)!]) }
    }

    static func holdsMarkdownTable(_ text: String) -> Bool {
        text.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("|") }
    }

    // MARK: - Fixtures

    static func verificationResult() -> VerificationResult {
        func curve(_ a: [Double], _ confusion: [[Int]]) -> TrainingCurve {
            TrainingCurve(accuracies: a, trainingLosses: a.map { _ in 1 }, seconds: 1, finalConfusion: confusion)
        }
        let clean = curve([0.7, 0.85, 0.9], [[9, 1, 0, 0], [0, 10, 0, 0], [1, 0, 8, 1], [0, 1, 0, 9]])
        let piled = curve([0.4, 0.3, 0.275], [[1, 0, 9, 0], [0, 0, 10, 0], [0, 0, 10, 0], [0, 0, 9, 0]])
        let learned = curve([0.5, 0.8, 0.825], [[8, 1, 1, 0], [1, 9, 0, 0], [0, 1, 8, 1], [1, 1, 0, 8]])
        return VerificationResult(
            trainDataset: "Datasets/fm-cloaked", baselineDataset: "Datasets/fm", testDataset: "Datasets/fm-test",
            model: "small", epochs: 3, seed: 7, classes: ["T-shirt & <top>", "Trouser", "Pullover", "Dress"],
            trainCount: 120, testCount: 40, chance: 0.25,
            rows: [CountermeasureResult(countermeasure: "none", protected: piled, baseline: clean,
                                        verdict: Verdict.judge(protected: piled, baseline: clean, chance: 0.25)),
                   CountermeasureResult(countermeasure: "jpeg-10", protected: learned, baseline: clean,
                                        verdict: Verdict.judge(protected: learned, baseline: clean, chance: 0.25))],
            runID: 12, checksPerEpoch: nil, cleanFraction: 0.125, unreadableFiles: ["Datasets/fm-cloaked/x & y.png: not an image"],
            notRun: ["grayscale"])
    }

    static func faceResult() -> FaceVerification.Result {
        typealias F = FaceVerification
        let box = FaceBox(left: 10, top: 10, right: 29, bottom: 29)
        let pairs = [
            F.Pair(original: "/photos/a&b <1>.jpg", cloaked: "/cloaked/a&b <1>.cloaked.jpg",
                   faces: [F.PairFace(box: box, shift: 0.712), F.PairFace(box: box, shift: nil)]),
            F.Pair(original: "/photos/p2.jpg", cloaked: "/cloaked/p2.cloaked.jpg", faces: [F.PairFace(box: box, shift: 0.654)]),
            F.Pair(original: "/photos/p3.jpg", cloaked: nil, faces: [], problem: "no cloaked copy"),
        ]
        var probes = [(0.81, 0.32, 0.93), (0.77, 0.41, 0.58)].enumerated().map { i, d in
            F.Probe(photo: "/photos/p\(i + 1).jpg", nearestCloaked: d.0, matchesCloaked: 0, nearestClean: d.1,
                    matchesClean: 1, gallerySize: 1)
        }
        for i in probes.indices {
            probes[i].nearestOther = "bob"
            probes[i].nearestOtherDistance = [0.93, 0.58][i]
            probes[i].nearestIdentity = i == 0 ? F.selfIdentity : "bob"
            probes[i].nearestIdentityDistance = [0.81, 0.58][i]
        }
        return F.Result(runID: 3, originals: "/photos", cloaked: "/cloaked", threshold: 0.6, pairs: pairs, probes: probes,
                        others: ["bob": 2], holds: F.protectionHolds(probes), seconds: 12.5)
    }

    /// A small image of pseudo-random colours.
    static func image(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The image with every sample moved by up to 8 levels, as a protection would.
    static func nudged(_ image: RGBImage) -> RGBImage {
        RGBImage(width: image.width, height: image.height,
                 pixels: image.pixels.enumerated().map { i, v in UInt8(clamping: Int(v) + (i % 17) - 8) })
    }
}

/// What an XML parse of a report page found; the initialiser throws on any parse error.
final class ParsedPage: NSObject, XMLParserDelegate {
    struct Table: CustomStringConvertible {
        var headerRows = 0, bodyRows = 0, strayRows = 0
        var headerCells: [String] = []
        var inScrollingWrapper = false
        var description: String { "table(head \(headerRows), body \(bodyRows), stray \(strayRows), \(headerCells))" }
    }

    struct ParseFailure: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var root: String?
    private(set) var elements: [String: Int] = [:]
    private(set) var tables: [Table] = []
    private(set) var preTexts: [String] = []
    private(set) var imageSources: [String] = []
    /// The character data outside `<style>`, a space at every element boundary.
    private(set) var text = ""
    private(set) var style = ""
    private var stack: [(name: String, attributes: [String: String])] = []
    private var headerCell: String?
    private var failure: String?

    init(_ html: String) throws {
        super.init()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = self
        let parsed = parser.parse()
        if let failure { throw ParseFailure(description: failure) }
        if !parsed {
            throw ParseFailure(description: "line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "parse failed")")
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = name }
        elements[name, default: 0] += 1
        let inside = Set(stack.map(\.name))
        switch name {
        case "table":
            let scrolls = stack.contains { $0.attributes["class"]?.split(separator: " ").contains("table-scroll") == true }
            tables.append(Table(inScrollingWrapper: scrolls))
        case "tr" where !tables.isEmpty:
            if inside.contains("thead") { tables[tables.count - 1].headerRows += 1 }
            else if inside.contains("tbody") { tables[tables.count - 1].bodyRows += 1 }
            else { tables[tables.count - 1].strayRows += 1 }
        case "th" where inside.contains("thead") && !tables.isEmpty: headerCell = ""
        case "pre": preTexts.append("")
        case "img": imageSources.append(attributes["src"] ?? "")
        default: break
        }
        stack.append((name, attributes))
        text += " "
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "th", let cell = headerCell {
            tables[tables.count - 1].headerCells.append(cell)
            headerCell = nil
        }
        stack.removeLast()
        text += " "
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        let inside = Set(stack.map(\.name))
        if inside.contains("style") { style += string; return }
        text += string
        if inside.contains("pre") { preTexts[preTexts.count - 1] += string }
        if headerCell != nil { headerCell! += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failure = failure ?? "line \(parser.lineNumber), column \(parser.columnNumber): \(parseError)"
    }

    /// Every `<img>`'s source, which must be PNG data, decoded with the project's codec.
    func decodedImages() throws -> [RGBImage] {
        let prefix = "data:image/png;base64,"
        return try imageSources.map { source in
            guard source.hasPrefix(prefix), let data = Data(base64Encoded: String(source.dropFirst(prefix.count))) else {
                throw ParseFailure(description: "not inline PNG data: \(source.prefix(40))")
            }
            return try ImageCodec.decode(bytes: Array(data), path: "<report image>").image
        }
    }
}
