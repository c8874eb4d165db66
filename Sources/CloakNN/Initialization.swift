import CloakTensor

/// Weight initialisation as PyTorch's defaults for `nn.Conv2d` and `nn.Linear`.
///
/// Weights: `kaiming_uniform_(a = √5)`, i.e. U(−b, b) with `b = gain · √(3 / fanIn)`, `gain = √(2 / (1 + a²))`,
/// which is `b = 1 / √fanIn`. Biases: U(−1/√fanIn, 1/√fanIn).
/// Reference: https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html (Variables section).
public enum Initialization {
    /// Kaiming-uniform weights with negative slope `a` (PyTorch's default `a = √5`).
    public static func kaimingUniform(shape: [Int], fanIn: Int, a: Float = Float(5).squareRoot(),
                                      using generator: inout some RandomNumberGenerator) -> Tensor {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Float(fanIn)).squareRoot()
        return Tensor(uniform: -bound...bound, shape: shape, using: &generator)
    }

    /// Kaiming-normal weights, `std = √2 / √fan` (He et al. 2015), for ReLU networks.
    public static func kaimingNormal(shape: [Int], fan: Int, using generator: inout some RandomNumberGenerator) -> Tensor {
        Tensor(normalMean: 0, standardDeviation: (2 / Float(fan)).squareRoot(), shape: shape, using: &generator)
    }

    /// PyTorch's default bias: U(−1/√fanIn, 1/√fanIn).
    public static func defaultBias(count: Int, fanIn: Int, using generator: inout some RandomNumberGenerator) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        return Tensor(uniform: -bound...bound, shape: [count], using: &generator)
    }
}
