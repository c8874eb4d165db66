#if canImport(Glibc)
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
    public let value: Float
    public init(_ value: Float) { self.value = value }
    public func learningRate(at epoch: Int) -> Float { value }
}

/// Cosine annealing from `base` to `minimum` over `period` epochs, PyTorch's `CosineAnnealingLR` closed form:
/// `lr(t) = minimum + (base − minimum) · (1 + cos(π t / period)) / 2`.
public struct CosineAnnealing: LearningRateSchedule {
    public let base: Float
    public let period: Int
    public let minimum: Float

    public init(base: Float, period: Int, minimum: Float = 0) {
        precondition(period > 0, "Cosine period must be positive")
        self.base = base
        self.period = period
        self.minimum = minimum
    }

    public func learningRate(at epoch: Int) -> Float {
        minimum + (base - minimum) * (1 + Float(cos(Double.pi * Double(epoch) / Double(period)))) / 2
    }
}

/// The base rate multiplied by `gamma` once for every milestone reached, as PyTorch's `MultiStepLR`.
public struct MultiStep: LearningRateSchedule {
    public let base: Float
    public let milestones: [Int]
    public let gamma: Float

    public init(base: Float, milestones: [Int], gamma: Float = 0.1) {
        self.base = base
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    public func learningRate(at epoch: Int) -> Float {
        base * powf(gamma, Float(milestones.filter { $0 <= epoch }.count))
    }
}
