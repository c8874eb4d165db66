import CloakData
import CloakTensor
import Foundation

/// `cloak verify --clean-fraction F`: does the protection survive when only part of the training data
/// carries it? The Unlearnable Examples code's users found that it does not (noise on a random subset, or
/// protected data mixed with clean data, and models still reach 80% or more: issue #22 of the reference
/// code). Whoever publishes a partly protected set, or whose protected images an attacker can mix with
/// clean ones, can measure it here.
enum CleanMix {
    /// `protected` with a seeded random `fraction` of its images replaced by their clean originals from
    /// `clean` (the same relative path under its root, any image extension), loaded at the same size.
    ///
    /// - Returns: the mixed images (same order, labels and paths as `protected`) and the protected paths
    ///   whose pixels were replaced, sorted.
    /// - Throws: ``VerifyError/tooFewCleanOriginals(baseline:needed:found:)`` when fewer protected images
    ///   have a clean original than the fraction needs.
    static func mix(_ protected: LoadedImageFolder, root protectedRoot: String, clean: LoadedImageFolder,
                    cleanRoot: String, fraction: Double, seed: UInt64) throws -> (images: LoadedImageFolder, replaced: [String]) {
        precondition(fraction > 0 && fraction < 1, "the clean fraction must be in (0, 1), got \(fraction)")
        precondition(protected.width == clean.width && protected.height == clean.height && protected.channels == clean.channels,
                     "protected and clean images must be loaded at the same size")
        var cleanIndex: [String: Int] = [:]
        for (j, path) in clean.paths.enumerated() { cleanIndex[FileRecords.relativeStem(of: path, under: cleanRoot)] = j }
        let paired = protected.paths.indices.compactMap { i in
            cleanIndex[FileRecords.relativeStem(of: protected.paths[i], under: protectedRoot)].map { (i, $0) }
        }
        let needed = Int((fraction * Double(protected.count)).rounded())
        guard paired.count >= needed else {
            throw VerifyError.tooFewCleanOriginals(baseline: cleanRoot, needed: needed, found: paired.count)
        }
        var generator = SplitMix64(seed: seed ^ 0xC1EA_2F00_D5EE_D000)
        let chosen = paired.shuffled(using: &generator).prefix(needed)
        var mixed = protected
        let n = protected.width * protected.height * protected.channels
        for (i, j) in chosen {
            mixed.pixels.replaceSubrange((i * n)..<((i + 1) * n), with: clean.pixels[(j * n)..<((j + 1) * n)])
        }
        return (mixed, chosen.map { protected.paths[$0.0] }.sorted())
    }
}
