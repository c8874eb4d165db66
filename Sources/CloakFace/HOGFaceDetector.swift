import CloakImage
import CloakTensor

/// A face found by a detector.
public struct FaceDetection: Sendable, Equatable, Codable {
    /// The face box in photo pixels (inclusive edges; may reach outside the photo, as dlib's do).
    public var box: FaceBox
    /// Detection confidence: the window score minus the filter's threshold (> 0 = detection).
    public var score: Double
    /// Which of the detector's filters fired (dlib's frontal detector: 0 front, 1 left, 2 right,
    /// 3 front rotated left, 4 front rotated right).
    public var filterIndex: Int

    public init(box: FaceBox, score: Double, filterIndex: Int) {
        self.box = box
        self.score = score
        self.filterIndex = filterIndex
    }
}

/// dlib's HOG sliding-window face detector, `object_detector<scan_fhog_pyramid<pyramid_down<6>>>`, as
/// `dlib.get_frontal_face_detector().save(path)` writes it (`frontal_face_detector.dat`).
///
/// Detection: an image pyramid scaled by 5/6 per level down to the smallest level of at least
/// `minimumLevelWidth x minimumLevelHeight`; fHOG features (``FHOGFeatures``) of each level; for each
/// filter, the correlation of the 31 feature planes with its `filterRows x filterColumns` weights; every
/// window scoring at least the filter's threshold becomes a box mapped back to the photo; then all boxes
/// sorted by confidence and greedily kept unless they overlap a kept one (``overlapTest``).
///
/// Difference from dlib: dlib splits each filter into rank-1 (separable) parts by SVD at load time and
/// drops singular values below 0.1% of the largest; Cloak correlates with the full stored filters. On the
/// sample photos boxes are identical and scores agree to about 1e-4.
public struct HOGFaceDetector: Sendable {
    /// One linear window filter: `weights[(plane * rows + row) * columns + column]`, 31 planes, and the
    /// threshold its score must reach.
    public struct Filter: Sendable {
        public var weights: [Float]
        public var threshold: Double
    }

    public let cellSize: Int
    public let windowWidth: Int
    public let windowHeight: Int
    /// Extra fHOG cells around the window in the filter (0 in dlib's face detector).
    public let padding: Int
    public let maximumLevels: Int
    public let minimumLevelWidth: Int
    public let minimumLevelHeight: Int
    /// Filter size in fHOG cells.
    public let filterRows: Int
    public let filterColumns: Int
    /// Non-max suppression test.
    public let overlapTest: BoxOverlapTest
    public let filters: [Filter]

    private init(cellSize: Int, windowWidth: Int, windowHeight: Int, padding: Int, maximumLevels: Int,
                 minimumLevelWidth: Int, minimumLevelHeight: Int, filterRows: Int, filterColumns: Int,
                 overlapTest: BoxOverlapTest, filters: [Filter]) {
        self.cellSize = cellSize
        self.windowWidth = windowWidth
        self.windowHeight = windowHeight
        self.padding = padding
        self.maximumLevels = maximumLevels
        self.minimumLevelWidth = minimumLevelWidth
        self.minimumLevelHeight = minimumLevelHeight
        self.filterRows = filterRows
        self.filterColumns = filterColumns
        self.overlapTest = overlapTest
        self.filters = filters
    }

    /// Reads and parses a saved detector; fails unless the whole file is one detector.
    public init(contentsOf path: String) throws {
        var reader = try DlibReader(contentsOf: path)
        self = try Self.parse(&reader)
    }

    /// Parses `serialize(object_detector<scan_fhog_pyramid<pyramid_down<6>>>)`:
    /// int version 2; the scanner (int version 1, the feature cache as a `dlib::array` (capacity, size) that
    /// must be empty,
    /// int cell size, ulong padding, ulong window width and height, ulong maximum pyramid levels,
    /// ulong minimum level width and height, double nuclear-norm strength, long feature dimensions);
    /// the overlap test (double IoU threshold, double covered threshold); ulong filter count; per filter a
    /// `matrix<double,0,1>` of `dimensions + 1` weights, the last one being the threshold.
    public static func parse(_ r: inout DlibReader) throws -> HOGFaceDetector {
        try r.expectInteger(2, "object_detector version")
        try r.expectInteger(1, "scan_fhog_pyramid version")
        _ = try r.readCount("fHOG feature cache capacity")
        let cached = try r.readCount("fHOG feature cache size")
        guard cached == 0 else { throw r.invalid("an empty fHOG feature cache", found: "\(cached) cached levels") }
        let cellSize = try r.readCount("cell size", limit: 64)
        let padding = try r.readCount("padding", limit: 64)
        let windowWidth = try r.readCount("window width", limit: 4096)
        let windowHeight = try r.readCount("window height", limit: 4096)
        let maxLevels = try r.readCount("maximum pyramid levels")
        let minWidth = try r.readCount("minimum pyramid level width")
        let minHeight = try r.readCount("minimum pyramid level height")
        _ = try r.readDouble("nuclear norm regularisation strength")
        let dimensionsAt = r.offset
        let dimensions = try r.readCount("feature dimensions")
        guard cellSize >= 2, windowWidth >= 1, windowHeight >= 1 else {
            throw r.invalid("cell size >= 2 and a non-empty window", found: "cell \(cellSize), window \(windowWidth)x\(windowHeight)")
        }
        // The filter covers the window in fHOG cells, grown by `padding` (dlib compute_fhog_window_size).
        let window = FaceBox(left: -(windowWidth / 2), top: -(windowHeight / 2),
                             right: -(windowWidth / 2) + windowWidth - 1, bottom: -(windowHeight / 2) + windowHeight - 1)
        let cells = imageToFHOG(window, cellSize: cellSize, filterRows: 1, filterColumns: 1)
        let filterColumns = cells.width + 2 * padding, filterRows = cells.height + 2 * padding
        guard dimensions == filterRows * filterColumns * FHOGFeatures.planeCount else {
            throw DlibFormatError.invalid(path: r.path, offset: dimensionsAt,
                                          expected: "\(filterRows * filterColumns * 31) feature dimensions", found: "\(dimensions)")
        }
        let overlap = BoxOverlapTest(iouThreshold: try r.readDouble("NMS IoU threshold"),
                                     coveredThreshold: try r.readDouble("NMS covered threshold"))
        let count = try r.readVectorCount("filters", minimumElementBytes: dimensions)
        var filters: [Filter] = []
        for _ in 0..<count {
            let m = try r.readMatrix("filter weights")
            guard m.rows == dimensions + 1, m.columns == 1 else {
                throw r.invalid("a \(dimensions + 1)x1 weight vector", found: "\(m.rows)x\(m.columns)")
            }
            filters.append(Filter(weights: m.values.prefix(dimensions).map { Float($0) }, threshold: m.values[dimensions]))
        }
        try r.expectEnd()
        return HOGFaceDetector(cellSize: cellSize, windowWidth: windowWidth, windowHeight: windowHeight, padding: padding,
                               maximumLevels: maxLevels, minimumLevelWidth: minWidth, minimumLevelHeight: minHeight,
                               filterRows: filterRows, filterColumns: filterColumns, overlapTest: overlap, filters: filters)
    }

    // MARK: - Detection

    /// Finds faces in `image` as dlib's `detector(img, upsample)` does, best first.
    ///
    /// - Parameters:
    ///   - upsample: how many times to double the image first (``ImagePyramid/upDouble(_:)``) to find faces
    ///     smaller than the 80 px window (each doubling halves the smallest face found and quadruples the
    ///     time). Boxes are mapped back with `pyramid_down<2>`'s `p / 2 - (1.25, 0.75)`.
    ///   - adjustThreshold: added to every filter's threshold; negative values find more (and weaker)
    ///     faces. dlib's default is 0.
    public func detect(in image: RGBImage, upsample: Int, adjustThreshold: Double = 0) -> [FaceDetection] {
        precondition(upsample >= 0, "upsample must be >= 0, got \(upsample)")
        var big = image
        for _ in 0..<upsample { big = ImagePyramid.upDouble(big) }
        return detect(in: big, adjustThreshold: adjustThreshold).map { d in
            func down(_ v: Int, _ offset: Double) -> Int {
                var x = Double(v)
                for _ in 0..<upsample { x = x / 2 - offset }
                return roundHalfAway(x)
            }
            var d = d
            d.box = FaceBox(left: down(d.box.left, 1.25), top: down(d.box.top, 0.75),
                            right: down(d.box.right, 1.25), bottom: down(d.box.bottom, 0.75))
            return d
        }
    }

    /// Finds faces in `image` as dlib's `detector(img, 0)` does (no upsampling), best first.
    ///
    /// - Parameter adjustThreshold: added to every filter's threshold; negative values find more (and
    ///   weaker) faces. dlib's default is 0.
    public func detect(in image: RGBImage, adjustThreshold: Double = 0) -> [FaceDetection] {
        // The pyramid first (each level is made from the one above), then the levels' features and scans on
        // all cores, largest level first so the cores finish together; windows gathered in level order.
        var pyramid = [image]
        for _ in 1..<levelCount(width: image.width, height: image.height) {
            guard let next = ImagePyramid.downFiveSixths(pyramid[pyramid.count - 1]) else { break }
            pyramid.append(next)
        }
        var candidates = Array(concurrentMap(count: pyramid.count) { l -> [FaceDetection] in
            let features = FHOGFeatures(image: pyramid[l], cellSize: cellSize, filterRows: filterRows, filterColumns: filterColumns)
            var windows: [FaceDetection] = []
            if !features.isEmpty { scan(features, level: l, adjustThreshold: adjustThreshold, into: &windows) }
            return windows
        }.joined())
        // dlib sorts each filter's windows by score, then all by confidence (stable enough: ties are rare).
        candidates.sort { $0.score > $1.score }
        var kept: [FaceDetection] = []
        for c in candidates where !kept.contains(where: { overlapTest.overlaps($0.box, c.box) }) {
            kept.append(c)
        }
        return kept
    }

    /// Number of pyramid levels dlib scans for a `width x height` image.
    public func levelCount(width: Int, height: Int) -> Int {
        var rect = FaceBox(left: 0, top: 0, right: width - 1, bottom: height - 1)
        var levels = 0
        repeat {
            rect = FaceBox(left: roundHalfAway((Double(rect.left) - 0.3) * 5 / 6), top: roundHalfAway((Double(rect.top) - 0.3) * 5 / 6),
                           right: roundHalfAway((Double(rect.right) - 0.3) * 5 / 6), bottom: roundHalfAway((Double(rect.bottom) - 0.3) * 5 / 6))
            levels += 1
        } while rect.width >= minimumLevelWidth && rect.height >= minimumLevelHeight && levels < maximumLevels
        return levels
    }

    /// Correlates every filter with the feature planes and collects the windows above threshold.
    ///
    /// Output row by output row, all filters at once, so the rows being summed stay in the L1 cache:
    /// `score[f][r][c] = sum over plane, m, n of weights[f][plane][m][n] * features[plane][r - rows/2 + m][c - columns/2 + n]`
    /// for the window centres `r, c` where the whole filter fits (dlib's `spatially_filter_image` area).
    private func scan(_ f: FHOGFeatures, level: Int, adjustThreshold: Double, into out: inout [FaceDetection]) {
        let firstRow = filterRows / 2, firstCol = filterColumns / 2
        let lastRow = f.rows - (filterRows - 1) / 2, lastCol = f.columns - (filterColumns - 1) / 2
        guard lastRow > firstRow, lastCol > firstCol else { return }
        let outCols = lastCol - firstCol
        let filterCount = filters.count
        let taps = FHOGFeatures.planeCount * filterRows * filterColumns
        // weights[tap * filterCount + filter]: the filters' weights for one tap side by side.
        var weights = [Float](repeating: 0, count: taps * filterCount)
        for (index, filter) in filters.enumerated() {
            for t in 0..<taps { weights[t * filterCount + index] = filter.weights[t] }
        }
        var rowScores = [Float](repeating: 0, count: filterCount * outCols)
        let planeSize = f.rows * f.columns
        let detRows = filterRows - 2 * padding, detCols = filterColumns - 2 * padding
        f.values.withUnsafeBufferPointer { feats in
            weights.withUnsafeBufferPointer { w in
                rowScores.withUnsafeMutableBufferPointer { s in
                    for r in firstRow..<lastRow {
                        for i in 0..<s.count { s[i] = 0 }
                        for plane in 0..<FHOGFeatures.planeCount {
                            for m in 0..<filterRows {
                                let src = feats.baseAddress! + plane * planeSize + (r - firstRow + m) * f.columns
                                let tapBase = (plane * filterRows + m) * filterColumns
                                for n in 0..<filterColumns {
                                    let wt = w.baseAddress! + (tapBase + n) * filterCount
                                    for k in 0..<filterCount {
                                        let weight = wt[k]
                                        if weight == 0 { continue }
                                        let dst = s.baseAddress! + k * outCols
                                        let row = src + n
                                        for c in 0..<outCols { dst[c] += weight * row[c] }
                                    }
                                }
                            }
                        }
                        for (k, filter) in filters.enumerated() {
                            let threshold = filter.threshold + adjustThreshold
                            for c in 0..<outCols {
                                let score = Double(s[k * outCols + c])
                                guard score >= threshold else { continue }
                                let cx = c + firstCol
                                let cellBox = FaceBox(left: cx - detCols / 2, top: r - detRows / 2,
                                                      right: cx - detCols / 2 + detCols - 1, bottom: r - detRows / 2 + detRows - 1)
                                let box = fhogToImage(cellBox, cellSize: cellSize, filterRows: filterRows, filterColumns: filterColumns)
                                out.append(FaceDetection(box: Self.levelUp(box, levels: level), score: score - filter.threshold,
                                                         filterIndex: k))
                            }
                        }
                    }
                }
            }
        }
    }

    /// Maps a box on pyramid level `levels` to level 0 (dlib `pyramid_down<6>::rect_up`: `p * 6/5 + 0.3`
    /// per level in double, rounded half away from zero at the end).
    static func levelUp(_ box: FaceBox, levels: Int) -> FaceBox {
        func up(_ v: Int) -> Int {
            var x = Double(v)
            for _ in 0..<levels { x = x * (6.0 / 5.0) + 0.3 }
            return roundHalfAway(x)
        }
        return FaceBox(left: up(box.left), top: up(box.top), right: up(box.right), bottom: up(box.bottom))
    }
}

// MARK: - fHOG cell <-> pixel mapping (dlib fhog.h)

/// dlib `image_to_fhog` for a box: pixel corners to the fHOG cells holding them.
func imageToFHOG(_ box: FaceBox, cellSize: Int, filterRows: Int, filterColumns: Int) -> FaceBox {
    func map(_ x: Int, _ y: Int) -> (Int, Int) {
        // C++ integer division truncates toward zero, as Swift's does.
        ((x - 1) / cellSize - 1 + (filterColumns - 1) / 2, (y - 1) / cellSize - 1 + (filterRows - 1) / 2)
    }
    let tl = map(box.left, box.top), br = map(box.right, box.bottom)
    return FaceBox(left: tl.0, top: tl.1, right: br.0, bottom: br.1)
}

/// dlib `fhog_to_image` for a box: cell corners to the pixel centres of those cells.
func fhogToImage(_ box: FaceBox, cellSize: Int, filterRows: Int, filterColumns: Int) -> FaceBox {
    func map(_ x: Int, _ y: Int) -> (Int, Int) {
        let px = (x + 1 - (filterColumns - 1) / 2) * cellSize + 1
        let py = (y + 1 - (filterRows - 1) / 2) * cellSize + 1
        let half = cellSize / 2
        return (px + (px >= 0 ? half : -half), py + (py >= 0 ? half : -half))
    }
    let tl = map(box.left, box.top), br = map(box.right, box.bottom)
    return FaceBox(left: tl.0, top: tl.1, right: br.0, bottom: br.1)
}

/// C's `lround`: nearest integer, halves away from zero (dlib's drectangle-to-rectangle rounding).
@inline(__always)
func roundHalfAway(_ x: Double) -> Int { Int(x.rounded(.toNearestOrAwayFromZero)) }
