import CloakSupport

/// Settings of error-minimising noise generation (Huang et al., "Unlearnable Examples", ICLR 2021).
///
/// Units: `epsilon` and `stepSize` are in 0-255 pixel levels (converted to [0, 1] units once, by
/// ``epsilonUnit`` and ``stepUnit``). Defaults per mode follow the reference implementation
/// (HanxunH/Unlearnable-Examples `exp_setting.sh`): class-wise 1 PGD step, 10 surrogate batches per round,
/// 20% subset; sample-wise 20 PGD steps, 10 surrogate batches; step 0.8/255; stop error 0.01.
public struct UnlearnableSettings: Codable, Sendable, Equatable {
    /// One noise pattern per class, or one per image.
    public enum Mode: String, Codable, Sendable, CaseIterable { case `class`, sample }
    /// Which poison makes the data unlearnable.
    ///
    /// - `em`: error-minimising noise (Huang et al., ICLR 2021), within L-inf ``epsilon``; with ``targetedPoison``,
    ///   summed with class-targeted adversarial poisoning.
    /// - `ops`: the one-pixel shortcut (Wu et al., ICLR 2023; ``OnePixelShortcut``): one pixel per image set to a
    ///   class's colour, L0 = 1; no surrogate, no rounds, and ``epsilon`` does not apply.
    public enum Method: String, Codable, Sendable, CaseIterable { case em, ops }
    /// The surrogate network.
    public enum Model: String, Codable, Sendable, CaseIterable { case small, resnet18 }
    public var mode: Mode
    public var method: Method = .em
    /// L-inf budget in 0-255 levels.
    public var epsilon: Double = 8
    /// Sign-gradient step in 0-255 levels.
    public var stepSize: Double = 0.8
    /// PGD steps per noise update.
    public var pgdSteps: Int
    /// Surrogate training batches per round.
    public var trainSteps: Int = 10
    /// Stop when the surrogate's error on the noisy generation set is below this.
    public var stopError: Double = 0.01
    /// Class-wise only: fraction of the data used to generate the noise (the noise then applies to all).
    public var subset: Double
    public var model: Model = .small
    /// Working size `(width, height)`; `nil`: the images' own (common) size.
    public var width: Int?
    public var height: Int?
    public var seed: UInt64 = 0
    /// When the error-minimising noise is done, add class-targeted adversarial poisoning (see
    /// ``TargetedAdversarialPoison``): each image is also pushed toward the next class's features, the sum clipped to
    /// ±ε, so the noise becomes one pattern per image (`noise.npy` `[N, C, H, W]`) in either mode. The error-minimising
    /// shortcut alone lets a fresh model learn the real features in its first epochs; the pushed images teach it the
    /// wrong ones there. `false`: error-minimising noise only, as the reference.
    public var targetedPoison = false
    /// Give up (with a clear message) after this many rounds.
    public var maxRounds: Int = 100
    /// Batch size for surrogate training, noise updates and the stop test (reference: 512).
    public var batchSize: Int = 512
    /// Surrogate SGD (reference: lr 0.1, momentum 0.9, weight decay 5e-4, gradient-norm clip 5).
    public var learningRate: Double = 0.1
    public var momentum: Double = 0.9
    public var weightDecay: Double = 5e-4
    public var gradientClip: Double = 5

    /// The reference defaults for `mode`.
    public init(mode: Mode) {
        self.mode = mode
        pgdSteps = mode == .class ? 1 : 20
        subset = mode == .class ? 0.2 : 1
    }

    /// Whether the written noise is one pattern per image (sample-wise, or any noise with ``targetedPoison``).
    public var noisePerImage: Bool { mode == .sample || targetedPoison }

    public var epsilonUnit: Float { Float(epsilon / 255) }
    public var stepUnit: Float { Float(stepSize / 255) }

    /// Checks the settings; the error names the setting that is wrong.
    public func validate() throws(SettingError) {
        guard epsilon > 0 && epsilon <= 255 else { throw SettingError("epsilon", "must be in (0, 255], got \(epsilon)") }
        guard stepSize > 0 else { throw SettingError("stepSize", "must be positive, got \(stepSize)") }
        guard pgdSteps >= 1 else { throw SettingError("pgdSteps", "must be at least 1") }
        guard trainSteps >= 0 else { throw SettingError("trainSteps", "must be at least 0") }
        guard stopError >= 0 && stopError < 1 else { throw SettingError("stopError", "must be in [0, 1)") }
        guard subset > 0 && subset <= 1 else { throw SettingError("subset", "must be in (0, 1], got \(subset)") }
        guard maxRounds >= 1 else { throw SettingError("maxRounds", "must be at least 1") }
        guard batchSize >= 1 else { throw SettingError("batchSize", "must be at least 1") }
        if method == .ops && mode != .class { throw SettingError("method", "ops is class-wise: one pixel per class") }
        if method == .ops && targetedPoison { throw SettingError("targetedPoison", "adds to error-minimising noise (`method` em)") }
        if let width, width < 8 { throw SettingError("size", "must be at least 8 pixels") }
        if let height, height < 8 { throw SettingError("size", "must be at least 8 pixels") }
    }
}
