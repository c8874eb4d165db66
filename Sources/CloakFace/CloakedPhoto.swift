import CloakImage

/// A photo after ``FaceCloaker``: the full-resolution 8-bit image and what was done to each face.
public struct CloakedPhoto: Sendable {
    /// The cloaked photo, same size as the input; pixels outside the faces' regions are unchanged.
    public var image: RGBImage
    /// One entry per input face, in input order.
    public var faces: [CloakedFace]
    /// Whole-image peak signal-to-noise ratio against the input, dB (infinite when nothing changed).
    public var psnr: Double
    /// Whole-image mean SSIM against the input (`CloakImage.ImageMetrics.ssim`'s definition).
    public var ssim: Double
    /// Wall-clock seconds for the whole photo (optimisation and measurement).
    public var seconds: Double
}

/// One cloaked face and its measurements.
public struct CloakedFace: Sendable {
    /// The detector's box on the input photo.
    public var box: FaceBox
    /// The photo region that was perturbed (the chip's source region plus the margin).
    public var region: FaceBox
    /// L2 distance between the descriptors of the face's chip on the input (from its input landmarks) and on
    /// the cloaked photo (from landmarks re-detected there), both 8-bit dlib-exact chips, un-jittered.
    public var embeddingShift: Float
    /// Whether the face was found again on the cloaked photo; when false, ``embeddingShift`` used the input
    /// landmarks on the cloaked photo.
    public var redetected: Bool
    /// For a targeted cloak: the L2 distance from the cloaked chip's descriptor to the target.
    public var targetDistance: Float?
    /// RGB DSSIM of ``region`` against the input (see ``ColourDissimilarity``).
    public var dissimilarity: Double
    /// PSNR of ``region`` against the input, dB (infinite when unchanged).
    public var regionPSNR: Double
    /// Largest absolute change of any sample, 8-bit levels.
    public var maximumChange: Int
    /// Seconds spent optimising this face.
    public var seconds: Double
    /// Per evaluated step: the mean distance of the jittered chips' descriptors from the original
    /// descriptor, and the region's DSSIM (float image), in step order (`steps + 1` entries).
    public var trace: [CloakStep]
}

/// One step of a face's optimisation, as evaluated before its update.
public struct CloakStep: Sendable, Equatable {
    /// Mean over the step's jittered chips of the descriptor's L2 distance from the original descriptor.
    public var shift: Float
    /// Mean over the step's jittered chips of the distance to the target (targeted cloaks), else nil.
    public var targetDistance: Float?
    /// RGB DSSIM of the perturbed region (float, before rounding).
    public var dissimilarity: Double
}

/// Where ``FaceCloaker/cloak(_:faces:objective:progress:)`` is: `step` of `stepCount` optimisation steps done
/// on face `face` (0-based) of `faceCount`.
public struct CloakProgress: Sendable, Equatable {
    public var face: Int
    public var faceCount: Int
    public var step: Int
    public var stepCount: Int

    /// Fraction of the photo's optimisation done, 0...1.
    public var fractionDone: Double {
        guard faceCount > 0, stepCount > 0 else { return 1 }
        return (Double(face) + Double(step) / Double(stepCount)) / Double(faceCount)
    }
}
