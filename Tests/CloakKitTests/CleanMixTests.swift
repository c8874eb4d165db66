import CloakDatasetProtection
import CloakData
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

@Suite("cloak verify --clean-fraction")
struct CleanMixTests {
    @Test func aSeededFractionOfTheProtectedImagesBecomesTheirCleanOriginals() throws {
        let protectedRoot = try makeTinyFolder(seed: 7), cleanRoot = try makeTinyFolder(seed: 8)   // same names, other pixels
        let protected = try ImageFolder(root: protectedRoot).load(), clean = try ImageFolder(root: cleanRoot).load()
        let mix = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        #expect(mix.replaced.count == 6)
        var replaced: [String] = []
        for i in 0..<protected.count {
            if Array(mix.images.image(i)) == Array(clean.image(i)) {
                replaced.append(protected.paths[i])
            } else {
                #expect(Array(mix.images.image(i)) == Array(protected.image(i)))
            }
        }
        #expect(replaced == mix.replaced)
        #expect(mix.images.labels == protected.labels && mix.images.paths == protected.paths)
        let again = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        #expect(again.replaced == mix.replaced)
        let other = try CleanMix.mix(protected, root: protectedRoot, clean: clean, cleanRoot: cleanRoot, fraction: 0.25, seed: 4)
        #expect(other.replaced != mix.replaced)

        // Only images with a clean original can be replaced
        for i in 0..<20 { try FileManager.default.removeItem(atPath: clean.paths[i]) }
        let fewer = try ImageFolder(root: cleanRoot).load()
        #expect(throws: VerifyError.tooFewCleanOriginals(baseline: cleanRoot, needed: 6, found: 4)) {
            try CleanMix.mix(protected, root: protectedRoot, clean: fewer, cleanRoot: cleanRoot, fraction: 0.25, seed: 3)
        }
    }

    @Test func theReportSaysTheProtectionWasPartial() throws {
        let train = try makeTinyFolder(seed: 9), test = try makeTinyFolder(seed: 10), baseline = try makeTinyFolder(seed: 11)
        var settings = VerifySettings()
        settings.epochs = 1
        settings.batchSize = 8
        settings.cleanFraction = 0.5
        let outcome = try Verifier(trainFolder: train, testFolder: test, baselineFolder: baseline,
                                   reportFolder: try temporaryFolder() + "/report", settings: settings, quiet: true)
            .run(store: try ProvenanceStore(), arguments: ["cloak"])
        #expect(outcome.result.cleanFraction == 0.5)
        #expect(VerificationReport.markdown(outcome.result).contains("Partial protection: 50.0% of the protected training images"))
        settings.cleanFraction = 0
        let twoClasses = try makeTinyFolder(classes: 2, seed: 12)
        let mismatch = VerifyError.classMismatch(path: twoClasses, classes: ["class0", "class1"], trainPath: train,
                                                 trainClasses: ["class0", "class1", "class2"])
        #expect(throws: mismatch) {
            try Verifier(trainFolder: train, testFolder: test, baselineFolder: twoClasses, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
        #expect(mismatch.localizedDescription.hasPrefix("\(twoClasses): its classes (class0, class1) are not those of "))
        #expect(mismatch.localizedDescription.contains("; no images of class2."))
        settings.cleanFraction = 0.5
        #expect(throws: VerifyError.cleanFractionNeedsBaseline) {
            try Verifier(trainFolder: train, testFolder: test, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
    }
}
