/// A small, fast, seedable generator (SplitMix64). All engine randomness (initialisation, shuffling,
/// augmentation) takes an `inout some RandomNumberGenerator`, so a run is reproducible from its seed.
///
/// Reference: Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state: `SplitMix64(seed: g.state)` continues `g`'s sequence exactly (how a
    /// training saved after an epoch resumes with the same shuffles and augmentations).
    public private(set) var state: UInt64

    /// Creates a generator whose whole output sequence is determined by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 pseudorandom bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Tensor {
    /// A tensor of independent uniform samples in `range`.
    public init(uniform range: ClosedRange<Float>, shape: [Int], using generator: inout some RandomNumberGenerator) {
        self.init(shape: shape) { p in
            for i in p.indices { p[i] = Float.random(in: range, using: &generator) }
        }
    }

    /// A tensor of independent normal samples (Box-Muller) with the given mean and standard deviation.
    public init(normalMean mean: Float = 0, standardDeviation: Float, shape: [Int],
                using generator: inout some RandomNumberGenerator) {
        self.init(shape: shape) { p in
            var i = 0
            while i < p.count {
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                let u2 = Double.random(in: 0..<1, using: &generator)
                let r = (-2 * _log(u1)).squareRoot()
                p[i] = mean + standardDeviation * Float(r * _cos(2 * .pi * u2))
                if i + 1 < p.count { p[i + 1] = mean + standardDeviation * Float(r * _sin(2 * .pi * u2)) }
                i += 2
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#else
import Darwin
@inline(__always) private func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Darwin.sin(x) }
#endif
