import CloakImage

/// How far a face's descriptor moved between an original photo and its cloaked copy.
public struct FaceShift: Sendable, Equatable {
    /// L2 distance between the descriptors of the face's chip on the original and on the cloaked photo.
    public var shift: Float
    /// Whether the face was found again on the cloaked photo (IoU >= 0.5 with its original box).
    public var redetected: Bool
    /// For a targeted cloak: the cloaked chip's descriptor distance to the target.
    public var targetDistance: Float?

    public init(shift: Float, redetected: Bool, targetDistance: Float? = nil) {
        self.shift = shift
        self.redetected = redetected
        self.targetDistance = targetDistance
    }
}

extension FaceCloaker {
    /// Measures each face as a tracker would see it: the descriptor distance between its 8-bit chip on the
    /// original (input landmarks) and on the cloaked photo (landmarks of the best-overlapping face
    /// re-detected there, IoU >= 0.5; else the input landmarks), and for targeted cloaks the cloaked chip's
    /// distance to the target. `cloaked` may be a re-encoded copy (e.g. JPEG) of the cloak's output.
    ///
    /// - Parameters:
    ///   - original: the upright input photo the faces were found on.
    ///   - cloaked: the cloaked photo, same size.
    ///   - faces: the faces as found on `original`.
    /// - Returns: one ``FaceShift`` per face, in order.
    public func embeddingShifts(original: RGBImage, cloaked: RGBImage, faces: [DetectedFace],
                                objective: CloakObjective = .untargeted) -> [FaceShift] {
        precondition(original.width == cloaked.width && original.height == cloaked.height,
                     "embeddingShifts: the cloaked photo must have the original's size")
        guard !faces.isEmpty else { return [] }
        let found = finder.faces(in: cloaked)
        var results: [FaceShift] = []
        for face in faces {
            let match = found.max { $0.detection.box.iou(face.detection.box) < $1.detection.box.iou(face.detection.box) }
            let redetected = match.map { $0.detection.box.iou(face.detection.box) >= 0.5 } ?? false
            let before = FaceChipExtractor.chip(from: original, plan: face.chip)
            let after = FaceChipExtractor.chip(from: cloaked, plan: redetected ? match!.chip : face.chip)
            let d = embedder.descriptors(of: [FloatRGBImage(before), FloatRGBImage(after)]).scalars
            let n = embedder.descriptorLength
            let a = Array(d[0..<n]), b = Array(d[n..<(2 * n)])
            var targetDistance: Float?
            if case .targeted(let t) = objective { targetDistance = Self.distance(b, t) }
            results.append(FaceShift(shift: Self.distance(a, b), redetected: redetected, targetDistance: targetDistance))
        }
        return results
    }

    /// The L2 distance between two descriptors (dlib's same-person threshold is 0.6).
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "descriptors of different lengths")
        return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    }

    /// Writes `pixels` (rounded, 0...255 floats) into `image` at `region`.
    static func paste(_ pixels: FloatRGBImage, into image: inout RGBImage, at region: FaceBox) {
        precondition(pixels.width == region.width && pixels.height == region.height, "paste: size mismatch")
        for y in 0..<region.height {
            let row = ((region.top + y) * image.width + region.left) * 3
            for i in 0..<(region.width * 3) {
                image.pixels[row + i] = UInt8(clamping: Int(pixels.values[y * region.width * 3 + i].rounded()))
            }
        }
    }

    /// `ImageMetrics.ssim(original, cloaked)` computed only around the changed regions: a window that
    /// touches no changed pixel compares equal pixels and scores exactly 1, so the mean over the whole
    /// photo is `1 - (windows near the changes) · (1 - their mean) / (all windows)`.
    static func wholeImageSSIM(_ original: RGBImage, _ cloaked: RGBImage, regions: [FaceBox]) -> Double {
        let k = ColourDissimilarity.windowSize
        guard original.width >= k, original.height >= k else { return ImageMetrics.ssim(original, cloaked) }
        let changed = regions.filter { !$0.isEmpty }
        guard let first = changed.first else { return 1 }
        var box = changed.dropFirst().reduce(first) { a, b in
            FaceBox(left: min(a.left, b.left), top: min(a.top, b.top), right: max(a.right, b.right), bottom: max(a.bottom, b.bottom))
        }
        box = FaceBox(left: box.left - k, top: box.top - k, right: box.right + k, bottom: box.bottom + k)
            .intersection(FaceBox(left: 0, top: 0, right: original.width - 1, bottom: original.height - 1))
        let local = ImageMetrics.ssim(FaceChipExtractor.crop(original, box), FaceChipExtractor.crop(cloaked, box))
        let localWindows = Double((box.width - k + 1) * (box.height - k + 1))
        let allWindows = Double((original.width - k + 1) * (original.height - k + 1))
        return 1 - localWindows * (1 - local) / allWindows
    }
}
