/// An axis-aligned box in pixel coordinates with **inclusive** integer edges, as dlib's `rectangle`:
/// it covers columns `left...right` and rows `top...bottom`, so `width = right - left + 1`.
/// A box with `left > right` or `top > bottom` is empty.
public struct FaceBox: Sendable, Equatable, Hashable, Codable {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    public init(left: Int, top: Int, right: Int, bottom: Int) {
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    public var isEmpty: Bool { left > right || top > bottom }
    public var width: Int { isEmpty ? 0 : right - left + 1 }
    public var height: Int { isEmpty ? 0 : bottom - top + 1 }
    public var area: Int { width * height }

    /// The common part of two boxes (empty when they do not meet).
    public func intersection(_ other: FaceBox) -> FaceBox {
        FaceBox(left: max(left, other.left), top: max(top, other.top),
                right: min(right, other.right), bottom: min(bottom, other.bottom))
    }

    /// Intersection over union of the two boxes' pixel sets (0 when either is empty).
    public func iou(_ other: FaceBox) -> Double {
        let inner = intersection(other).area
        let union = area + other.area - inner
        return union == 0 ? 0 : Double(inner) / Double(union)
    }

    /// Whether the pixel `(x, y)` lies in the box.
    public func contains(x: Int, y: Int) -> Bool { x >= left && x <= right && y >= top && y <= bottom }

    /// The box scaled about the origin by `factor` with dlib's drectangle-to-rectangle rounding (half away
    /// from zero); used to map boxes found on a downscaled photo back.
    public func scaled(by factor: Double) -> FaceBox {
        FaceBox(left: Int((Double(left) * factor).rounded()), top: Int((Double(top) * factor).rounded()),
                right: Int((Double(right) * factor).rounded()), bottom: Int((Double(bottom) * factor).rounded()))
    }
}

/// A point in pixel coordinates; `(0, 0)` is the centre of the top-left pixel.
public struct FacePoint: Sendable, Equatable, Hashable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An affine map of the plane, `p' = A p + b` with
/// ```
/// x' = a * x + b * y + tx
/// y' = c * x + d * y + ty
/// ```
public struct AffineTransform2D: Sendable, Equatable, Codable {
    public var a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double

    public init(a: Double, b: Double, c: Double, d: Double, tx: Double, ty: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.tx = tx; self.ty = ty
    }

    public static let identity = AffineTransform2D(a: 1, b: 0, c: 0, d: 1, tx: 0, ty: 0)

    /// Applies the map.
    public func apply(_ p: FacePoint) -> FacePoint {
        FacePoint(x: a * p.x + b * p.y + tx, y: c * p.x + d * p.y + ty)
    }

    /// Applies only the linear part (no translation).
    public func applyLinear(_ p: FacePoint) -> FacePoint {
        FacePoint(x: a * p.x + b * p.y, y: c * p.x + d * p.y)
    }

    /// The least-squares similarity transform (rotation, uniform scale, translation; no reflection)
    /// taking `from[i]` to `to[i]`, as dlib's `find_similarity_transform` (Umeyama) computes it.
    public static func similarity(from: [FacePoint], to: [FacePoint]) -> AffineTransform2D {
        precondition(from.count == to.count && from.count >= 2, "similarity needs >= 2 point pairs, got \(from.count)/\(to.count)")
        let n = Double(from.count)
        let mfx = from.reduce(0) { $0 + $1.x } / n, mfy = from.reduce(0) { $0 + $1.y } / n
        let mtx = to.reduce(0) { $0 + $1.x } / n, mty = to.reduce(0) { $0 + $1.y } / n
        var sxx = 0.0, sxy = 0.0, norm = 0.0
        for (f, t) in zip(from, to) {
            let fx = f.x - mfx, fy = f.y - mfy, ux = t.x - mtx, uy = t.y - mty
            sxx += fx * ux + fy * uy
            sxy += fx * uy - fy * ux
            norm += fx * fx + fy * fy
        }
        // For 2-D points Umeyama's rotation-and-scale c*R equals [[p, -q], [q, p]] with these sums.
        let p = norm == 0 ? 1 : sxx / norm, q = norm == 0 ? 0 : sxy / norm
        return AffineTransform2D(a: p, b: -q, c: q, d: p, tx: mtx - (p * mfx - q * mfy), ty: mty - (q * mfx + p * mfy))
    }

    /// The exact affine map taking three non-collinear points `from` to `to`.
    public static func through(from: [FacePoint], to: [FacePoint]) -> AffineTransform2D {
        precondition(from.count == 3 && to.count == 3, "affine through 3 points needs 3 pairs")
        let (p0, p1, p2) = (from[0], from[1], from[2])
        let det = (p1.x - p0.x) * (p2.y - p0.y) - (p2.x - p0.x) * (p1.y - p0.y)
        precondition(det != 0, "affine through collinear points")
        func solve(_ v0: Double, _ v1: Double, _ v2: Double) -> (Double, Double, Double) {
            let u = ((v1 - v0) * (p2.y - p0.y) - (v2 - v0) * (p1.y - p0.y)) / det
            let w = ((p1.x - p0.x) * (v2 - v0) - (p2.x - p0.x) * (v1 - v0)) / det
            return (u, w, v0 - u * p0.x - w * p0.y)
        }
        let (a, b, tx) = solve(to[0].x, to[1].x, to[2].x)
        let (c, d, ty) = solve(to[0].y, to[1].y, to[2].y)
        return AffineTransform2D(a: a, b: b, c: c, d: d, tx: tx, ty: ty)
    }
}
