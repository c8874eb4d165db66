import CloakData
import CloakDatasetProtection
import CloakNN
import CloakSupport
import CloakTensor
import Foundation

/// The images of a verification, loaded at the protected set's working size (once it is clear they fit in memory),
/// with their content hashes and, under partial protection, the protected images mixed with clean originals.
struct VerificationData {
    var protectedImages: LoadedImageFolder
    /// What the protected model trains on: the protected images, or under `cleanFraction` the mix.
    var trainingImages: LoadedImageFolder
    var testImages: LoadedImageFolder
    var baselineImages: LoadedImageFolder?
    var testData: LabelledImages
    /// ``Verifier/datasetHash(_:)`` of each (the training hash also names the images the mix replaced).
    var trainHash: String
    var testHash: String
    var baselineHash: String?
    /// Unreadable files, each once (a folder given twice, as test set and baseline, reports them once).
    var failures: [WalkProblem]
    /// How many protected images the mix replaced (`nil`: no partial protection).
    var replacedByClean: Int?
    var trainRoot: String
    var testRoot: String
    var baselineRoot: String?

    var size: (width: Int, height: Int) { (protectedImages.width, protectedImages.height) }
    var channels: Int { protectedImages.channels }

    static func load(_ folders: Verifier.Folders, settings: VerifySettings, quiet: Bool) throws -> VerificationData {
        let (train, test, baseline) = (folders.train, folders.test, folders.baseline)
        let trainIndices = train.indices(limitPerClass: settings.limitPerClass)
        let baselineIndices = baseline?.indices(limitPerClass: settings.limitPerClass)
        let chosen = WorkingSize.choose(requested: nil, folder: train, indices: trainIndices)
        if let chosen {
            try WorkingSize.check(images: trainIndices.count + test.samples.count + (baselineIndices?.count ?? 0),
                                  size: chosen.size, batch: settings.batchSize, model: settings.model, noiseCopies: 0,
                                  path: train.root)
            if let note = chosen.note, !quiet { StandardError.print("note: " + note) }
        }
        let protectedImages = train.load(size: chosen?.size, indices: trainIndices)
        let size = (protectedImages.width, protectedImages.height), channels = protectedImages.channels
        let testImages = test.load(size: size, channels: channels)
        let baselineImages = baseline.map { $0.load(size: size, channels: channels, indices: baselineIndices) }
        var seen = Set<String>()
        let failures = (protectedImages.failures + testImages.failures + (baselineImages?.failures ?? []))
            .filter { seen.insert($0.path).inserted }
        var data = VerificationData(
            protectedImages: protectedImages, trainingImages: protectedImages, testImages: testImages,
            baselineImages: baselineImages, testData: Verifier.labelled(testImages),
            trainHash: try Verifier.datasetHash(protectedImages), testHash: try Verifier.datasetHash(testImages),
            baselineHash: try baselineImages.map(Verifier.datasetHash), failures: failures, replacedByClean: nil,
            trainRoot: train.root, testRoot: test.root, baselineRoot: baseline?.root)
        if settings.cleanFraction > 0, let baselineImages, let baseline {
            let mix = try CleanMix.mix(protectedImages, root: train.root, clean: baselineImages, cleanRoot: baseline.root,
                                       fraction: settings.cleanFraction, seed: settings.seed)
            data.trainingImages = mix.images
            data.trainHash = FileDigest.sha256(Array((data.trainHash + "\n" + mix.replaced.joined(separator: "\n")).utf8))
            data.replacedByClean = mix.replaced.count
        }
        return data
    }
}
