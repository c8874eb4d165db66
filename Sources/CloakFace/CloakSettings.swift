/// How hard ``FaceCloaker`` works on each face: the perceptual budget, the optimisation and its random
/// transformations. All pixel quantities are in 0...255 units.
public struct CloakSettings: Sendable, Equatable, Codable {
    /// Adam steps per face.
    public var steps: Int
    /// Hard per-sample cap on the change (L-inf) in whole 8-bit levels, e.g. 6 = 6/255; the float
    /// optimisation and the 8-bit output both respect it exactly.
    public var maximumChange: Int
    /// Budget on the face region's RGB DSSIM (see ``ColourDissimilarity``); the kept result is within it.
    public var dissimilarityBudget: Double
    /// Random chip transformations per step (expectation over transformations).
    public var jittersPerStep: Int
    /// Largest random chip shift, in chip pixels (150-px chip), per axis.
    public var maximumJitterShift: Double
    /// Largest random relative chip scale change (0.05 = +-5 %).
    public var maximumJitterScale: Double
    /// Largest random chip rotation, degrees.
    public var maximumJitterRotation: Double
    /// Adam learning rate in pixel units per step at the first step.
    public var learningRate: Float
    /// The learning rate at the last step, as a fraction of ``learningRate``; in between it follows a
    /// half cosine (1 = constant).
    public var finalLearningRateFraction: Float
    /// The perturbed region, over which the DSSIM budget is measured, is the chip's source region grown on
    /// each side by this fraction of its larger side plus ``marginPixels`` (at least as far as the largest
    /// jitter reaches), clipped to the photo. A wide margin of untouched pixels would dilute the DSSIM.
    public var marginFraction: Double
    /// Added to the margin, pixels (see ``marginFraction``).
    public var marginPixels: Int
    /// Seed of every random choice (start noise, jitters): equal inputs and seeds give equal outputs.
    public var seed: UInt64

    /// Settings with the mid mode's budget and optimisation unless given others.
    public init(steps: Int, maximumChange: Int = 6, dissimilarityBudget: Double = 0.005, jittersPerStep: Int = 4,
                maximumJitterShift: Double = 3, maximumJitterScale: Double = 0.05, maximumJitterRotation: Double = 4,
                learningRate: Float = 1, finalLearningRateFraction: Float = 1, marginFraction: Double = 0.05,
                marginPixels: Int = 8, seed: UInt64 = 0) {
        precondition(steps >= 0 && jittersPerStep >= 1, "CloakSettings needs steps >= 0 and at least one jitter")
        precondition(maximumChange > 0 && dissimilarityBudget > 0 && learningRate > 0,
                     "CloakSettings needs a positive cap, budget and learning rate")
        self.steps = steps
        self.maximumChange = maximumChange
        self.dissimilarityBudget = dissimilarityBudget
        self.jittersPerStep = jittersPerStep
        self.maximumJitterShift = maximumJitterShift
        self.maximumJitterScale = maximumJitterScale
        self.maximumJitterRotation = maximumJitterRotation
        self.learningRate = learningRate
        self.finalLearningRateFraction = finalLearningRateFraction
        self.marginFraction = marginFraction
        self.marginPixels = marginPixels
        self.seed = seed
    }
}

/// Preset strengths of the face cloak (4 random chip jitters per step, Adam at 1 level per step), tuned by
/// measurement on dlib's embedder; what each moved the sample photos is in `docs/measurements/faces.md` and
/// `Tests/CloakFaceTests/Fixtures/CLOAK_MEASUREMENTS.md`. dlib's same-person threshold is 0.6.
///
/// | mode | steps | cap (levels) | RGB face DSSIM budget |
/// |------|-------|--------------|-----------------------|
/// | low  | 25    | 6            | 0.005                 |
/// | mid  | 50    | 6            | 0.005                 |
/// | high | 100   | 8            | 0.008                 |
public enum CloakMode: String, Sendable, CaseIterable, Codable {
    case low, mid, high

    /// The default mode.
    public static let standard = CloakMode.mid

    /// The settings of this mode with the given seed.
    public func settings(seed: UInt64 = 0) -> CloakSettings {
        switch self {
        case .low: return CloakSettings(steps: 25, seed: seed)
        case .mid: return CloakSettings(steps: 50, seed: seed)
        case .high: return CloakSettings(steps: 100, maximumChange: 8, dissimilarityBudget: 0.008, seed: seed)
        }
    }
}

/// What the cloak does to a face's descriptor.
public enum CloakObjective: Sendable, Equatable {
    /// Push the descriptor away from the face's own (maximise the L2 distance).
    case untargeted
    /// Pull the descriptor toward another identity's mean descriptor (minimise the L2 distance).
    case targeted(descriptor: [Float])
}
