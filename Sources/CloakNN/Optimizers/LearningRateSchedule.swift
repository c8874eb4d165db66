#if canImport(Glibc)
import CloakTensor
import Glibc
#else
import Darwin
#endif

/// A learning rate as a function of the epoch (or step) index, counted from 0.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at epoch: Int) -> Float
}

/// A fixed learning rate.
public struct ConstantLearningRate: LearningRateSchedule {
    /// The learning rate for every epoch.
    public let value: Float
    /// Creates a schedule that always returns `value`.
    public init(_ value: Float) { self.value = value }
    /// Returns `value`.
    public func learningRate(at epoch: Int) -> Float { value }
}

/// Cosine annealing from `base` to `minimum` over `period` epochs, PyTorch's `CosineAnnealingLR` closed form:
/// `lr(t) = minimum + (base − minimum) · (1 + cos(π t / period)) / 2`.
public struct CosineAnnealing: LearningRateSchedule {
    /// The rate at epoch 0.
    public let base: Float
    /// Epochs from `base` down to `minimum` (PyTorch's `T_max`); past it the closed form rises again.
    public let period: Int
    /// The rate at epoch `period` (PyTorch's `eta_min`).
    public let minimum: Float

    /// Creates the schedule; `period` must be positive.
    public init(base: Float, period: Int, minimum: Float = 0) {
        precondition(period > 0, "Cosine period must be positive")
        self.base = base
        self.period = period
        self.minimum = minimum
    }

    /// `minimum + (base − minimum) · (1 + cos(π · epoch / period)) / 2`.
    public func learningRate(at epoch: Int) -> Float {
        minimum + (base - minimum) * (1 + Float(cos(Double.pi * Double(epoch) / Double(period)))) / 2
    }
}

/// The base rate multiplied by `gamma` once for every milestone reached, as PyTorch's `MultiStepLR`.
public struct MultiStep: LearningRateSchedule {
    /// The rate before the first milestone.
    public let base: Float
    /// Epochs at which the rate is multiplied by `gamma`, sorted ascending.
    public let milestones: [Int]
    /// Factor applied per milestone reached (default 0.1, as PyTorch).
    public let gamma: Float

    /// Creates the schedule; `milestones` are stored sorted.
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    /// `base · gamma^k`, where `k` is the number of milestones ≤ `epoch`.
    public func learningRate(at epoch: Int) -> Float {
        base * powf(gamma, Float(milestones.filter { $0 <= epoch }.count))
    }
}
