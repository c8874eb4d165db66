import CloakImage

/// dlib's facial landmark predictor (`dlib::shape_predictor`): a cascade of regression-tree forests
/// (Kazemi & Sullivan 2014) that refines a mean shape inside a face box.
///
/// Shapes are `[Float]` of `2 * pointCount` values `x0, y0, x1, y1, ...` in box-normalised coordinates
/// (the box's top-left corner is `(0, 0)`, its bottom-right corner `(1, 1)`).
///
/// Load `shape_predictor_5_face_landmarks.dat` with ``init(contentsOf:)`` and call
/// ``landmarks(in:box:)``; the file layout is in ``parse(_:)``.
public struct ShapePredictor: Sendable {
    /// One split node: go left when `pixel[first] - pixel[second] > threshold`.
    public struct Split: Sendable, Equatable {
        public var first: Int
        public var second: Int
        public var threshold: Float
    }

    /// A complete binary tree stored breadth-first: node `i` has children `2i+1` and `2i+2`;
    /// `leaves.count == splits.count + 1`, each leaf a shape delta of `2 * pointCount` values.
    public struct RegressionTree: Sendable, Equatable {
        public var splits: [Split]
        public var leaves: [[Float]]
    }

    /// The mean shape every prediction starts from.
    public let initialShape: [Float]
    /// `forests[cascade]`: the trees of one cascade level, their deltas summed.
    public let forests: [[RegressionTree]]
    /// `anchors[cascade][feature]`: the landmark each feature pixel is placed relative to.
    public let anchors: [[Int]]
    /// `deltas[cascade][feature]`: the feature pixel's offset from its anchor in the mean shape (x, y).
    public let deltas: [[FacePoint]]

    /// Number of landmarks (5 for `shape_predictor_5_face_landmarks.dat`).
    public var pointCount: Int { initialShape.count / 2 }

    /// Reads and parses a shape predictor file; fails unless the whole file is one predictor.
    public init(contentsOf path: String) throws {
        var reader = try DlibReader(contentsOf: path)
        self = try Self.parse(&reader)
    }

    private init(initialShape: [Float], forests: [[RegressionTree]], anchors: [[Int]], deltas: [[FacePoint]]) {
        self.initialShape = initialShape
        self.forests = forests
        self.anchors = anchors
        self.deltas = deltas
    }

    /// Parses `serialize(shape_predictor)`:
    /// int version 1; `matrix<float,0,1>` initial shape; `vector<vector<regression_tree>>` forests
    /// (tree = `vector<split>` with split = ulong idx1, ulong idx2, float thresh, then
    /// `vector<matrix<float,0,1>>` leaves); `vector<vector<ulong>>` anchor indices;
    /// `vector<vector<vector<float,2>>>` deltas. The file must end there.
    /// Why it is long: one reader of dlib's serialised layout, field after field, as the format lists them.
    public static func parse(_ r: inout DlibReader) throws -> ShapePredictor {
        try r.expectInteger(1, "shape_predictor version")
        let initial = try r.readMatrix("initial shape")
        guard initial.columns == 1, initial.rows >= 2, initial.rows % 2 == 0 else {
            throw r.invalid("an even-length column initial shape", found: "\(initial.rows)x\(initial.columns)")
        }
        let shapeLength = initial.rows
        let cascadeCount = try r.readVectorCount("cascades")
        var forests: [[RegressionTree]] = []
        for _ in 0..<cascadeCount {
            let treeCount = try r.readVectorCount("trees", minimumElementBytes: 4)
            var trees: [RegressionTree] = []
            trees.reserveCapacity(treeCount)
            for _ in 0..<treeCount {
                let splitCount = try r.readVectorCount("splits", minimumElementBytes: 6)
                var splits: [Split] = []
                splits.reserveCapacity(splitCount)
                for _ in 0..<splitCount {
                    let a = try r.readCount("split idx1"), b = try r.readCount("split idx2")
                    splits.append(Split(first: a, second: b, threshold: try r.readFloat("split threshold")))
                }
                let leafCount = try r.readVectorCount("leaves", minimumElementBytes: 4)
                guard leafCount == splitCount + 1 else {
                    throw r.invalid("\(splitCount + 1) leaves for \(splitCount) splits", found: "\(leafCount)")
                }
                var leaves: [[Float]] = []
                leaves.reserveCapacity(leafCount)
                for _ in 0..<leafCount {
                    let leaf = try r.readMatrix("leaf")
                    guard leaf.rows == shapeLength, leaf.columns == 1 else {
                        throw r.invalid("a \(shapeLength)x1 leaf", found: "\(leaf.rows)x\(leaf.columns)")
                    }
                    leaves.append(leaf.values.map { Float($0) })
                }
                trees.append(RegressionTree(splits: splits, leaves: leaves))
            }
            forests.append(trees)
        }
        let anchorCount = try r.readVectorCount("anchor lists")
        guard anchorCount == cascadeCount else { throw r.invalid("\(cascadeCount) anchor lists", found: "\(anchorCount)") }
        var anchors: [[Int]] = []
        for _ in 0..<anchorCount {
            let n = try r.readVectorCount("anchor indices", minimumElementBytes: 2)
            anchors.append(try (0..<n).map { _ in
                let start = r.offset
                let v = try r.readCount("anchor index")
                guard v < shapeLength / 2 else {
                    throw DlibFormatError.invalid(path: r.path, offset: start, expected: "a landmark index < \(shapeLength / 2)", found: "\(v)")
                }
                return v
            })
        }
        let deltaCount = try r.readVectorCount("delta lists")
        guard deltaCount == cascadeCount else { throw r.invalid("\(cascadeCount) delta lists", found: "\(deltaCount)") }
        var deltas: [[FacePoint]] = []
        for i in 0..<deltaCount {
            let n = try r.readVectorCount("deltas", minimumElementBytes: 4)
            guard n == anchors[i].count else { throw r.invalid("\(anchors[i].count) deltas", found: "\(n)") }
            deltas.append(try (0..<n).map { _ in
                FacePoint(x: Double(try r.readFloat("delta x")), y: Double(try r.readFloat("delta y")))
            })
        }
        for (level, trees) in forests.enumerated() {
            for tree in trees where tree.splits.contains(where: { $0.first >= anchors[level].count || $0.second >= anchors[level].count }) {
                _ = tree
                throw r.invalid("split indices < \(anchors[level].count) in cascade \(level)", found: "a larger index")
            }
        }
        try r.expectEnd()
        return ShapePredictor(initialShape: initial.values.map { Float($0) }, forests: forests, anchors: anchors, deltas: deltas)
    }

    // MARK: - Prediction

    /// The landmarks of the face in `box`, in photo pixel coordinates, rounded to whole pixels as dlib's
    /// `full_object_detection` parts are (the chip template is fitted to these rounded points).
    public func landmarks(in image: RGBImage, box: FaceBox) -> [FacePoint] {
        landmarksUnrounded(in: image, box: box).map { FacePoint(x: ($0.x + 0.5).rounded(.down), y: ($0.y + 0.5).rounded(.down)) }
    }

    /// The landmarks before dlib's rounding to whole pixels.
    public func landmarksUnrounded(in image: RGBImage, box: FaceBox) -> [FacePoint] {
        let shape = regressedShape(in: image, box: box)
        return (0..<pointCount).map { toImage(box, Double(shape[2 * $0]), Double(shape[2 * $0 + 1])) }
    }

    /// Maps box-normalised `(x, y)` to the photo: `(0,0)` -> top-left corner, `(1,1)` -> bottom-right.
    @inline(__always)
    private func toImage(_ box: FaceBox, _ x: Double, _ y: Double) -> FacePoint {
        FacePoint(x: Double(box.left) + x * Double(box.right - box.left),
                  y: Double(box.top) + y * Double(box.bottom - box.top))
    }

    private func regressedShape(in image: RGBImage, box: FaceBox) -> [Float] {
        var current = initialShape
        var features = [Float]()
        let n = pointCount
        for level in forests.indices {
            // Similarity from the mean shape to the current one; only its 2x2 part moves the deltas.
            let from = (0..<n).map { FacePoint(x: Double(initialShape[2 * $0]), y: Double(initialShape[2 * $0 + 1])) }
            let to = (0..<n).map { FacePoint(x: Double(current[2 * $0]), y: Double(current[2 * $0 + 1])) }
            let t = AffineTransform2D.similarity(from: from, to: to)
            let (m00, m01, m10, m11) = (Float(t.a), Float(t.b), Float(t.c), Float(t.d))
            features.removeAll(keepingCapacity: true)
            image.pixels.withUnsafeBufferPointer { px in
                for (anchor, delta) in zip(anchors[level], deltas[level]) {
                    let dx = Float(delta.x), dy = Float(delta.y)
                    let sx = (m00 * dx + m01 * dy) + current[2 * anchor]
                    let sy = (m10 * dx + m11 * dy) + current[2 * anchor + 1]
                    let p = toImage(box, Double(sx), Double(sy))
                    let x = Int((p.x + 0.5).rounded(.down)), y = Int((p.y + 0.5).rounded(.down))
                    if x >= 0, y >= 0, x < image.width, y < image.height {
                        let i = 3 * (y * image.width + x)
                        features.append(Float((Int(px[i]) + Int(px[i + 1]) + Int(px[i + 2])) / 3))
                    } else {
                        features.append(0)
                    }
                }
            }
            for tree in forests[level] {
                var node = 0
                while node < tree.splits.count {
                    let s = tree.splits[node]
                    node = features[s.first] - features[s.second] > s.threshold ? 2 * node + 1 : 2 * node + 2
                }
                let leaf = tree.leaves[node - tree.splits.count]
                for j in current.indices { current[j] += leaf[j] }
            }
        }
        return current
    }
}
