import Foundation

/// Several jittered chips of one face from one image pyramid: dlib's chip extraction (``ChipWarp``) where
/// the crop and the `pyramid_down<2>` halvings are computed once per image and only the final bilinear
/// sampling differs per jitter, with the exact adjoint.
///
/// The crop is the plan's region grown on each side by whole pyramid cells (`2^levels` pixels, as far as the
/// image allows), so every level stays aligned with dlib's and the un-jittered chip equals
/// ``ChipWarp/forward(_:)``'s, while jittered chips find real pixels where the plan's tight region would
/// end. A jitter moves the chip in chip space like ``ChipWarp/jittered(shiftX:shiftY:scale:rotation:)``.
struct JitteredChipBatch {
    let plan: FaceChipPlan
    /// The grown crop, in the coordinates of the image the batch reads.
    let crop: FaceBox
    /// Chip pixel to the last level of the grown crop's pyramid (un-jittered).
    let chipToLevel: AffineTransform2D
    /// The sampling transforms of the current chips.
    private(set) var transforms: [AffineTransform2D] = []
    /// Level sizes of the last forward pass, crop first.
    private var sizes: [(width: Int, height: Int)] = []

    /// - Parameters:
    ///   - plan: dlib's plan for the face on a `width x height` image.
    ///   - margin: how far (image pixels) the crop should reach beyond the plan's region.
    init(plan: FaceChipPlan, width: Int, height: Int, margin: Double) {
        self.plan = plan
        let cell = 1 << plan.pyramidLevels
        let want = Int((margin / Double(cell)).rounded(.up)) * cell
        let r = plan.region
        func grow(_ room: Int) -> Int { min(want, room / cell * cell) }
        let (l, t) = (grow(r.left), grow(r.top))
        let (rr, b) = (grow(width - 1 - r.right), grow(height - 1 - r.bottom))
        crop = FaceBox(left: r.left - l, top: r.top - t, right: r.right + rr, bottom: r.bottom + b)
        var m = plan.chipToLevel
        m.tx += Double(l / cell)
        m.ty += Double(t / cell)
        chipToLevel = m
    }

    /// The chip-space jitter `J(p) = scale * R(rotation) * (p - centre) + centre + shift` composed into the
    /// sampling transform (shift in chip pixels, rotation in radians).
    func transform(shiftX: Double, shiftY: Double, scale: Double, rotation: Double) -> AffineTransform2D {
        let centre = Double(plan.details.size - 1) / 2
        let ca = scale * cos(rotation), sa = scale * sin(rotation)
        let jitter = AffineTransform2D(a: ca, b: -sa, c: sa, d: ca,
                                       tx: centre - ca * centre + sa * centre + shiftX,
                                       ty: centre - sa * centre - ca * centre + shiftY)
        return chipToLevel.composed(with: jitter)
    }

    /// The chips of `image` for each transform (from ``transform(shiftX:shiftY:scale:rotation:)``).
    mutating func forward(_ image: FloatRGBImage, transforms: [AffineTransform2D]) -> [FloatRGBImage] {
        let size = plan.details.size
        var level = ChipWarp.crop(image, crop)
        sizes = [(level.width, level.height)]
        for _ in 0..<plan.pyramidLevels {
            level = ChipWarp.halve(level)
            sizes.append((level.width, level.height))
        }
        self.transforms = transforms
        return transforms.map { ChipWarp.sample(level, transform: $0, width: size, height: size) }
    }

    /// Adds the image gradient of the chip gradients (one per transform of the last ``forward(_:transforms:)``)
    /// into `gradient` (the image's size).
    func addBackward(_ chipGradients: [FloatRGBImage], into gradient: inout FloatRGBImage) {
        precondition(chipGradients.count == transforms.count && !sizes.isEmpty,
                     "JitteredChipBatch.addBackward needs one chip gradient per chip of the last forward")
        let last = sizes[sizes.count - 1]
        var level = FloatRGBImage(width: last.width, height: last.height)
        for (g, t) in zip(chipGradients, transforms) {
            let s = ChipWarp.sampleAdjoint(g, transform: t, sourceWidth: last.width, sourceHeight: last.height)
            for i in level.values.indices { level.values[i] += s.values[i] }
        }
        for (w, h) in sizes.dropLast().reversed() { level = ChipWarp.halveAdjoint(level, inputWidth: w, inputHeight: h) }
        let box = crop, width = gradient.width
        gradient.values.withUnsafeMutableBufferPointer { out in
            for y in 0..<box.height {
                let row = ((box.top + y) * width + box.left) * 3
                for x in 0..<(box.width * 3) { out[row + x] += level.values[y * box.width * 3 + x] }
            }
        }
    }
}
