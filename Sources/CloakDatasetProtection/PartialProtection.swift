import CloakTensor

/// Partial protection (`cloak verify --clean-fraction F`): does the protection survive when only part of the
/// training data carries it? The Unlearnable Examples code's users found that it does not (noise on a random
/// subset, or protected data mixed with clean data, and models still reach 80% or more: issue #22 of the reference
/// code). This is the seeded choice of the images whose protected pixels are replaced by their clean originals.
public enum PartialProtection {
    /// A seeded random `fraction` of `count` protected images, chosen among those with a clean original.
    ///
    /// - Parameter pairs: (protected index, clean index) for every protected image that has a clean original, in
    ///   protected order.
    /// - Returns: the chosen pairs, or `nil` when fewer images have a clean original than the fraction needs.
    public static func choose(pairs: [(protected: Int, clean: Int)], count: Int, fraction: Double,
                              seed: UInt64) -> [(protected: Int, clean: Int)]? {
        precondition(fraction > 0 && fraction < 1, "the clean fraction must be in (0, 1), got \(fraction)")
        guard pairs.count >= needed(count: count, fraction: fraction) else { return nil }
        var generator = SplitMix64(seed: seed ^ 0xC1EA_2F00_D5EE_D000)
        return Array(pairs.shuffled(using: &generator).prefix(needed(count: count, fraction: fraction)))
    }

    /// How many of `count` images a `fraction` replaces.
    public static func needed(count: Int, fraction: Double) -> Int { Int((fraction * Double(count)).rounded()) }

    /// Copies each chosen clean image over its protected one. Layout: images of `imageSize` floats, one after another.
    public static func replace(_ protected: inout [Float], with clean: [Float], pairs: [(protected: Int, clean: Int)],
                               imageSize n: Int) {
        for (i, j) in pairs {
            protected.replaceSubrange((i * n)..<((i + 1) * n), with: clean[(j * n)..<((j + 1) * n)])
        }
    }
}
