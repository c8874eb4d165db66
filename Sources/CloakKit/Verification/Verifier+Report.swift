import CloakData
import CloakImage
import CloakSupport
import Foundation

extension Verifier {
    /// `report.json`, `report.html` and `report.md` in `folder`.
    func writeReport(_ result: VerificationResult, to folder: String, protected: LoadedImageFolder,
                     baselineFolder: ImageFolder?) throws {
        try createDirectory(folder)
        try writeFileAtomically(Array(try VerificationReport.json(result).utf8), to: folder + "/report.json")
        try writeFileAtomically(Array(VerificationReport.markdown(result).utf8), to: folder + "/report.md")
        // Sample grid: for a few images of the protected set, the clean original from the baseline folder
        // (same relative path, any extension) when there is one.
        var samples: [(original: RGBImage, protected: RGBImage)] = []
        if let baselineFolder {
            var perClass = [Int: Int]()
            for path in protected.paths {
                guard samples.count < 12 else { break }
                let stem = FileRecords.relativeStem(of: path, under: FileRecords.absolute(trainFolder))
                let cls = stem.split(separator: "/").first.map(String.init) ?? ""
                let key = protected.classes.firstIndex(of: cls) ?? -1
                guard perClass[key, default: 0] < 2 else { continue }
                let candidates = ["png", "jpg", "jpeg", "PNG", "JPG", "JPEG"].map { "\(baselineFolder.root)/\(stem).\($0)" }
                guard let originalPath = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
                      let original = try? ImageCodec.decode(path: originalPath).image,
                      let cloaked = try? ImageCodec.decode(path: path).image,
                      original.width == cloaked.width, original.height == cloaked.height else { continue }
                samples.append((original, cloaked))
                perClass[key, default: 0] += 1
            }
        }
        try writeFileAtomically(Array(VerificationReport.html(result, samples: samples).utf8), to: folder + "/report.html")
    }
}
