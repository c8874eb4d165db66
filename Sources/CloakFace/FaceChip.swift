import Foundation
import CloakImage

/// Where and how an aligned face chip is cut from a photo: dlib's `chip_details` from
/// `get_face_chip_details(shape, size, padding)`, plus the image-pyramid plan dlib's
/// `extract_image_chip` follows for it.
///
/// dlib fits a similarity transform from the 5-point template (scaled by `(padding + p) / (1 + 2 padding)
/// * size`) to the landmarks, turns it into a rotated rectangle (`rect`, `angle`), and samples the chip
/// bilinearly. When the rectangle is much larger than the chip it first shrinks the photo region with
/// `pyramid_down<2>` (see ``pyramidLevels``), so that bilinear sampling does not alias.
public struct FaceChipDetails: Sendable, Equatable {
    /// The 5-point template (dlib `get_face_chip_details`), in units of the unpadded chip.
    public static let template: [FacePoint] = [
        FacePoint(x: 0.8595674595992, y: 0.2134981538014), FacePoint(x: 0.6460604764104, y: 0.2289674387677),
        FacePoint(x: 0.1205750620789, y: 0.2137274526848), FacePoint(x: 0.3340850613712, y: 0.2290642403242),
        FacePoint(x: 0.4901123135679, y: 0.6277975316475),
    ]

    /// Chip side in pixels (150 for dlib's face descriptor).
    public let size: Int
    /// The chip's rectangle in photo coordinates before rotation: `left, top, right, bottom` (doubles,
    /// inclusive, so its width is `right - left + 1`).
    public let left: Double, top: Double, right: Double, bottom: Double
    /// Rotation of the rectangle about its centre, radians.
    public let angle: Double

    /// Computes dlib's `get_face_chip_details(shape, size, padding)` for 5 landmarks in dlib's order
    /// (as ``ShapePredictor/landmarks(in:box:)`` returns them: already rounded to whole pixels).
    public init(landmarks: [FacePoint], size: Int = 150, padding: Double = 0.25) {
        precondition(landmarks.count == 5, "face chip needs the 5 dlib landmarks, got \(landmarks.count)")
        precondition(size > 0 && padding >= 0, "face chip needs size > 0 and padding >= 0")
        let from = Self.template.map {
            FacePoint(x: (padding + $0.x) / (2 * padding + 1) * Double(size), y: (padding + $0.y) / (2 * padding + 1) * Double(size))
        }
        let t = AffineTransform2D.similarity(from: from, to: landmarks)
        // chip_details(chip_points, img_points, dims): angle and scale of the transform's x axis.
        let axis = t.applyLinear(FacePoint(x: 1, y: 0))
        let scale = (axis.x * axis.x + axis.y * axis.y).squareRoot()
        let centre = t.apply(FacePoint(x: Double(size) / 2, y: Double(size) / 2))
        let extent = Double(size) * scale - 1  // centered_drect(p, w, h) shrinks w and h by one
        self.size = size
        self.angle = atan2(axis.y, axis.x)
        self.left = centre.x - extent / 2
        self.top = centre.y - extent / 2
        self.right = centre.x + extent / 2
        self.bottom = centre.y + extent / 2
    }

    /// Width of the rectangle (`right - left + 1`).
    public var width: Double { right - left + 1 }

    /// The rectangle's corners rotated by ``angle`` about its centre: top-left, top-right, bottom-left,
    /// bottom-right, in photo coordinates.
    public var rotatedCorners: [FacePoint] { Self.rotatedCorners(left, top, right, bottom, angle) }

    static func rotatedCorners(_ l: Double, _ t: Double, _ r: Double, _ b: Double, _ angle: Double) -> [FacePoint] {
        let cx = (l + r) / 2, cy = (t + b) / 2, ca = cos(angle), sa = sin(angle)
        return [(l, t), (r, t), (l, b), (r, b)].map { p in
            let dx = p.0 - cx, dy = p.1 - cy
            return FacePoint(x: ca * dx - sa * dy + cx, y: sa * dx + ca * dy + cy)
        }
    }
}

/// How dlib's `extract_image_chip` cuts one chip from a `width x height` photo: the photo region it works
/// on, how many `pyramid_down<2>` halvings it applies to that region, and the affine map from chip
/// pixels to the halved region. See ``FaceChipExtractor`` for the pixels and ``ChipWarp`` for the
/// differentiable version.
public struct FaceChipPlan: Sendable, Equatable {
    /// The chip's geometry.
    public let details: FaceChipDetails
    /// The photo region dlib crops before building its pyramid (inclusive integer edges, inside the photo);
    /// empty when the chip lies entirely outside the photo.
    public let region: FaceBox
    /// Number of `pyramid_down<2>` halvings applied to the region before sampling (0 = sample directly).
    public let pyramidLevels: Int
    /// Chip pixel `(column, row)` to coordinates in the region after `pyramidLevels` halvings.
    public let chipToLevel: AffineTransform2D

    /// Plans the extraction of `details` from a `width x height` photo exactly as dlib does.
    public init(details: FaceChipDetails, photoWidth width: Int, photoHeight height: Int) {
        self.details = details
        let chipArea = Double(details.size * details.size)
        func down(_ r: (Double, Double, Double, Double)) -> (Double, Double, Double, Double) {
            (r.0 / 2 - 1.25, r.1 / 2 - 0.75, r.2 / 2 - 1.25, r.3 / 2 - 0.75)
        }
        func area(_ r: (Double, Double, Double, Double)) -> Double {
            (r.2 < r.0 || r.3 < r.1) ? 0 : (r.2 - r.0 + 1) * (r.3 - r.1 + 1)
        }
        // Pyramid depth and the margin the pyramid's filters need (2, then x2 + 2 per level).
        var probe = down((details.left, details.top, details.right, details.bottom))
        var depth = 0
        var grow = 2.0
        while area(probe) > chipArea {
            probe = down(probe)
            depth += 1
            grow = grow * 2 + 2
        }
        let corners = details.rotatedCorners
        let bl = max(corners.map(\.x).min()! - grow, 0), bt = max(corners.map(\.y).min()! - grow, 0)
        let br = min(corners.map(\.x).max()! + grow, Double(width - 1)), bb = min(corners.map(\.y).max()! + grow, Double(height - 1))
        // drectangle -> rectangle rounds to nearest (lround); flooring here misregisters by half a pixel.
        region = (bl > br || bt > bb) ? FaceBox(left: 0, top: 0, right: -1, bottom: -1)
            : FaceBox(left: roundHalfAway(bl), top: roundHalfAway(bt), right: roundHalfAway(br), bottom: roundHalfAway(bb))
        // Level used for sampling, found on the rectangle translated into the region.
        var rect = (details.left - Double(region.left), details.top - Double(region.top),
                    details.right - Double(region.left), details.bottom - Double(region.top))
        var level = -1
        while area(down(rect)) > chipArea {
            level += 1
            rect = down(rect)
        }
        pyramidLevels = level + 1
        let c = FaceChipDetails.rotatedCorners(rect.0, rect.1, rect.2, rect.3, details.angle)
        let n = Double(details.size - 1)
        chipToLevel = .through(from: [FacePoint(x: 0, y: 0), FacePoint(x: n, y: 0), FacePoint(x: 0, y: n)],
                               to: [c[0], c[1], c[2]])
    }

    /// Chip pixel `(column, row)` to full-resolution photo coordinates: ``chipToLevel`` followed by undoing
    /// each halving (`q -> (q + (1.25, 0.75)) * 2`) and the region offset. This is the geometric map the
    /// chip approximates; the pixels themselves also went through the pyramid's blur.
    public var chipToPhoto: AffineTransform2D {
        var t = chipToLevel
        for _ in 0..<pyramidLevels {
            t = AffineTransform2D(a: 2 * t.a, b: 2 * t.b, c: 2 * t.c, d: 2 * t.d, tx: 2 * (t.tx + 1.25), ty: 2 * (t.ty + 0.75))
        }
        t.tx += Double(region.left)
        t.ty += Double(region.top)
        return t
    }
}

/// Cuts aligned face chips out of photos, pixel-exact with dlib's `get_face_chip` / `extract_image_chip`.
public enum FaceChipExtractor {
    /// The `size x size` chip dlib's `get_face_chip(img, shape, size, padding)` returns.
    public static func chip(from image: RGBImage, landmarks: [FacePoint], size: Int = 150, padding: Double = 0.25) -> RGBImage {
        let plan = FaceChipPlan(details: FaceChipDetails(landmarks: landmarks, size: size, padding: padding),
                                photoWidth: image.width, photoHeight: image.height)
        return chip(from: image, plan: plan)
    }

    /// The chip for a plan: crop ``FaceChipPlan/region``, halve it ``FaceChipPlan/pyramidLevels`` times
    /// with ``ImagePyramid/downHalf(_:)``, sample bilinearly (values truncated, black outside).
    public static func chip(from image: RGBImage, plan: FaceChipPlan) -> RGBImage {
        let size = plan.details.size
        var out = [UInt8](repeating: 0, count: size * size * 3)
        guard !plan.region.isEmpty else { return RGBImage(width: size, height: size, pixels: out) }
        var level = crop(image, plan.region)
        for _ in 0..<plan.pyramidLevels {
            guard let next = ImagePyramid.downHalf(level) else { return RGBImage(width: size, height: size, pixels: out) }
            level = next
        }
        let t = plan.chipToLevel
        level.pixels.withUnsafeBufferPointer { src in
            for r in 0..<size {
                for c in 0..<size {
                    let p = t.apply(FacePoint(x: Double(c), y: Double(r)))
                    let left = Int(p.x.rounded(.down)), top = Int(p.y.rounded(.down))
                    guard left >= 0, top >= 0, left + 1 < level.width, top + 1 < level.height else { continue }
                    let lr = p.x - Double(left), tb = p.y - Double(top)
                    let i00 = (top * level.width + left) * 3, i10 = i00 + level.width * 3
                    for ch in 0..<3 {
                        let v = (1 - tb) * ((1 - lr) * Double(src[i00 + ch]) + lr * Double(src[i00 + 3 + ch]))
                            + tb * ((1 - lr) * Double(src[i10 + ch]) + lr * Double(src[i10 + 3 + ch]))
                        out[(r * size + c) * 3 + ch] = UInt8(clamping: Int(v))
                    }
                }
            }
        }
        return RGBImage(width: size, height: size, pixels: out)
    }

    /// The pixels of `box` (inside the image).
    public static func crop(_ image: RGBImage, _ box: FaceBox) -> RGBImage {
        precondition(box.left >= 0 && box.top >= 0 && box.right < image.width && box.bottom < image.height,
                     "crop \(box) outside \(image.width)x\(image.height)")
        var pixels = [UInt8]()
        pixels.reserveCapacity(box.area * 3)
        for y in box.top...box.bottom {
            let start = (y * image.width + box.left) * 3
            pixels += image.pixels[start..<(start + box.width * 3)]
        }
        return RGBImage(width: box.width, height: box.height, pixels: pixels)
    }
}
