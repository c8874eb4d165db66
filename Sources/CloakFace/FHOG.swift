import CloakImage

/// Felzenszwalb's 31-dimensional HOG features as dlib computes them (`extract_fhog_features`), for an
/// RGB image: per pixel the gradient of the colour channel with the largest gradient, 18 signed
/// orientation bins with bilinear voting into `cellSize` cells, four block normalisations, then 18
/// contrast-sensitive, 9 contrast-insensitive and 4 texture features per cell.
///
/// Layout: `values[(plane * rows + row) * columns + column]`, 31 planes. The feature map is padded for a
/// `filterRows x filterColumns` filter as dlib does: `(filterRows - 1) / 2` zero rows on top and
/// `filterRows / 2` at the bottom (columns alike), so cell `(y, x)` of the unpadded map sits at
/// `(y + (filterRows - 1) / 2, x + (filterColumns - 1) / 2)`.
public struct FHOGFeatures: Sendable {
    public static let planeCount = 31
    public let rows: Int
    public let columns: Int
    public var values: [Float]

    /// An all-empty map (image too small for any cell).
    public var isEmpty: Bool { rows == 0 || columns == 0 }

    /// Computes the features of `image` (dlib `extract_fhog_features(img, hog, cellSize, filterRows,
    /// filterColumns)`), bit-for-bit in the gradient and histogram steps.
    /// Why it is long: a port of dlib's `extract_fhog_features` in dlib's order, so the two read side by side.
    public init(image: RGBImage, cellSize: Int = 8, filterRows: Int = 1, filterColumns: Int = 1) {
        precondition(cellSize > 1 && filterRows > 0 && filterColumns > 0,
                     "fHOG needs cellSize > 1 and positive filter sizes, got \(cellSize), \(filterRows)x\(filterColumns)")
        let cellsRows = Int(Float(image.height) / Float(cellSize) + 0.5)
        let cellsCols = Int(Float(image.width) / Float(cellSize) + 0.5)
        let hogRows = max(cellsRows - 2, 0), hogCols = max(cellsCols - 2, 0)
        guard hogRows > 0, hogCols > 0 else {
            rows = 0; columns = 0; values = []
            return
        }
        rows = hogRows + filterRows - 1
        columns = hogCols + filterColumns - 1
        var out = [Float](repeating: 0, count: Self.planeCount * rows * columns)
        let hist = Self.histograms(image, cellSize: cellSize, cellsRows: cellsRows, cellsCols: cellsCols)
        let histCols = cellsCols + 2
        // Block energy: sum over the 9 unsigned orientations of (signed pair sum)^2.
        var norm = [Float](repeating: 0, count: cellsRows * cellsCols)
        for r in 0..<cellsRows {
            for c in 0..<cellsCols {
                let h = ((r + 1) * histCols + c + 1) * 18
                var e: Float = 0
                for o in 0..<9 {
                    let s = hist[h + o] + hist[h + o + 9]
                    e += s * s
                }
                norm[r * cellsCols + c] = e
            }
        }
        let rowOffset = (filterRows - 1) / 2, colOffset = (filterColumns - 1) / 2
        let outColumns = hogCols + filterColumns - 1
        let planeSize = (hogRows + filterRows - 1) * outColumns
        let eps: Float = 0.0001
        norm.withUnsafeBufferPointer { norm in
        hist.withUnsafeBufferPointer { hist in
        out.withUnsafeMutableBufferPointer { out in
        for y in 0..<hogRows {
            for x in 0..<hogCols {
                @inline(__always) func nv(_ r: Int, _ c: Int) -> Float { norm[r * cellsCols + c] }
                let z1 = SIMD4<Float>(nv(y + 1, x + 1), nv(y, x + 1), nv(y + 1, x), nv(y, x))
                let z2 = SIMD4<Float>(nv(y + 1, x + 2), nv(y, x + 2), nv(y + 1, x + 1), nv(y, x + 1))
                let z3 = SIMD4<Float>(nv(y + 2, x + 1), nv(y + 1, x + 1), nv(y + 2, x), nv(y + 1, x))
                let z4 = SIMD4<Float>(nv(y + 2, x + 2), nv(y + 1, x + 2), nv(y + 2, x + 1), nv(y + 1, x + 1))
                let nn = Float(0.2) * (z1 + z2 + z3 + z4 + eps).squareRoot()
                let n = Float(0.1) / nn
                var t = SIMD4<Float>(repeating: 0)
                let h = ((y + 2) * histCols + x + 2) * 18
                let cell = (y + rowOffset) * outColumns + x + colOffset
                @inline(__always) func lanesSum(_ v: SIMD4<Float>) -> Float { (v[0] + v[1]) + (v[2] + v[3]) }
                var o = 0
                while o < 18 {
                    let h0 = pointwiseMin(SIMD4(repeating: hist[h + o]), nn) * n
                    let h1 = pointwiseMin(SIMD4(repeating: hist[h + o + 1]), nn) * n
                    let h2 = pointwiseMin(SIMD4(repeating: hist[h + o + 2]), nn) * n
                    out[o * planeSize + cell] = lanesSum(h0)
                    out[(o + 1) * planeSize + cell] = lanesSum(h1)
                    out[(o + 2) * planeSize + cell] = lanesSum(h2)
                    t += h0 + h1 + h2
                    o += 3
                }
                t *= Float(2 * 0.2357)
                for o in 0..<9 {
                    let s = hist[h + o] + hist[h + o + 9]
                    out[(o + 18) * planeSize + cell] = lanesSum(pointwiseMin(SIMD4(repeating: s), nn) * n)
                }
                for k in 0..<4 { out[(27 + k) * planeSize + cell] = t[k] }
            }
        }
        }
        }
        }
        values = out
    }

    /// Unit vectors of the 9 unsigned orientations, as in dlib (4 decimals): x parts, then y parts.
    private static let directionsX = SIMD16<Float>(1.0000, 0.9397, 0.7660, 0.500, 0.1736, -0.1736, -0.5000, -0.7660, -0.9397,
                                                   0, 0, 0, 0, 0, 0, 0)
    private static let directionsY = SIMD16<Float>(0.0000, 0.3420, 0.6428, 0.8660, 0.9848, 0.9848, 0.8660, 0.6428, 0.3420,
                                                   0, 0, 0, 0, 0, 0, 0)

    /// The 18-bin orientation histograms of all cells, with one cell of padding all round:
    /// `hist[((row + 1) * (cellsCols + 2) + column + 1) * 18 + bin]`.
    ///
    /// dlib processes 8 columns at a time with SIMD and the remaining columns with scalar code; the two
    /// break gradient-length ties between colour channels differently (SIMD prefers the later channel,
    /// scalar the earlier one) and are reproduced as such.
    /// Why it is long: dlib's SIMD and scalar column paths, reproduced tie for tie, in one loop as dlib has them.
    private static func histograms(_ image: RGBImage, cellSize: Int, cellsRows: Int, cellsCols: Int) -> [Float] {
        let histCols = cellsCols + 2
        var hist = [Float](repeating: 0, count: (cellsRows + 2) * histCols * 18)
        let visibleRows = min(cellsRows * cellSize, image.height) - 1
        let visibleCols = min(cellsCols * cellSize, image.width) - 1
        let w = image.width
        let cs = Float(cellSize)
        let dirX = directionsX, dirY = directionsY
        image.pixels.withUnsafeBufferPointer { px in
            hist.withUnsafeMutableBufferPointer { hist in
                for y in stride(from: 1, to: max(visibleRows, 1), by: 1) {
                    let yp = Float((Double(y) + 0.5) / Double(cs) - 0.5)
                    let iyp = Int(yp.rounded(.down))
                    let vy0 = yp - Float(iyp)
                    let vy1 = Float(1.0 - Double(vy0))
                    let rowC = px.baseAddress! + y * w * 3
                    let rowU = rowC - w * 3, rowD = rowC + w * 3
                    // Gradient of the strongest channel at (x, y); `simdTies` picks dlib's SIMD tie rule.
                    @inline(__always) func gradient(_ x: Int, simdTies: Bool) -> (Int, Int, Int) {
                        let i = 3 * x
                        let rx = Int(rowC[i + 3]) - Int(rowC[i - 3]), ry = Int(rowD[i]) - Int(rowU[i])
                        let gx = Int(rowC[i + 4]) - Int(rowC[i - 2]), gy = Int(rowD[i + 1]) - Int(rowU[i + 1])
                        let bx = Int(rowC[i + 5]) - Int(rowC[i - 1]), by = Int(rowD[i + 2]) - Int(rowU[i + 2])
                        var best = (rx, ry, rx * rx + ry * ry)
                        let gl = gx * gx + gy * gy, bl = bx * bx + by * by
                        if simdTies ? gl >= best.2 : gl > best.2 { best = (gx, gy, gl) }
                        if simdTies ? bl >= best.2 : bl > best.2 { best = (bx, by, bl) }
                        return best
                    }
                    @inline(__always) func orientation(_ gx: Float, _ gy: Float) -> Int {
                        var bestDot: Float = 0, bestO = 0
                        let dots = gx * dirX + gy * dirY
                        for o in 0..<9 {
                            let dot = dots[o]
                            if dot > bestDot {
                                bestDot = dot; bestO = o
                            } else if -dot > bestDot {
                                bestDot = -dot; bestO = o + 9
                            }
                        }
                        return bestO
                    }
                    var x = 1
                    while x < visibleCols - 7 {
                        for k in 0..<8 {
                            let xx = x + k
                            let (gx, gy, len) = gradient(xx, simdTies: true)
                            let v = Float(len).squareRoot()
                            let o = orientation(Float(gx), Float(gy))
                            let xp = (Float(xx) + 0.5) / cs + 0.5
                            let ixp = Int(xp)
                            let vx0 = (xp - Float(ixp)) * v
                            let vx1 = (1 - (xp - Float(ixp))) * v
                            let base = (iyp + 1) * histCols
                            hist[(base + ixp) * 18 + o] += vy1 * vx1
                            hist[(base + histCols + ixp) * 18 + o] += vy0 * vx1
                            hist[(base + ixp + 1) * 18 + o] += vy1 * vx0
                            hist[(base + histCols + ixp + 1) * 18 + o] += vy0 * vx0
                        }
                        x += 8
                    }
                    while x < visibleCols {
                        let (gx, gy, len) = gradient(x, simdTies: false)
                        let o = orientation(Float(gx), Float(gy))
                        let v = Float(len).squareRoot()
                        let xp = Float((Double(x) + 0.5) / Double(cellSize) - 0.5)
                        let ixp = Int(xp.rounded(.down))
                        let vx0 = xp - Float(ixp)
                        let vx1 = Float(1.0 - Double(vx0))
                        let base = (iyp + 1) * histCols
                        hist[(base + ixp + 1) * 18 + o] += vy1 * vx1 * v
                        hist[(base + histCols + ixp + 1) * 18 + o] += vy0 * vx1 * v
                        hist[(base + ixp + 2) * 18 + o] += vy1 * vx0 * v
                        hist[(base + histCols + ixp + 2) * 18 + o] += vy0 * vx0 * v
                        x += 1
                    }
                }
            }
        }
        return hist
    }
}
