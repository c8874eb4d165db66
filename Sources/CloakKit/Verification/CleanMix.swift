import CloakData
import CloakDatasetProtection
import Foundation

/// `cloak verify --clean-fraction F` on loaded folders: protected images paired with their clean originals by
/// relative path, then ``PartialProtection`` chooses and replaces.
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
        precondition(protected.width == clean.width && protected.height == clean.height && protected.channels == clean.channels,
                     "protected and clean images must be loaded at the same size")
        var cleanIndex: [String: Int] = [:]
        for (j, path) in clean.paths.enumerated() { cleanIndex[FileRecords.relativeStem(of: path, under: cleanRoot)] = j }
        let paired = protected.paths.indices.compactMap { i in
            cleanIndex[FileRecords.relativeStem(of: protected.paths[i], under: protectedRoot)].map { (protected: i, clean: $0) }
        }
        guard let chosen = PartialProtection.choose(pairs: paired, count: protected.count, fraction: fraction, seed: seed) else {
            throw VerifyError.tooFewCleanOriginals(baseline: cleanRoot, needed: PartialProtection.needed(count: protected.count,
                                                                                                        fraction: fraction),
                                                   found: paired.count)
        }
        var mixed = protected
        PartialProtection.replace(&mixed.pixels, with: clean.pixels, pairs: chosen,
                                  imageSize: protected.width * protected.height * protected.channels)
        return (mixed, chosen.map { protected.paths[$0.protected] }.sorted())
    }
}
