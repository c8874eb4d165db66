@testable import CloakImage
import CloakSupport
import CloakStore
import Foundation
import Testing

/// The repository's `Datasets/` (face models and sample photos come from `make setup`).
let repositoryDatasets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Datasets").path
let faceDataInstalled = FileManager.default.fileExists(atPath: repositoryDatasets + "/dlib-models/dlib_face_recognition_resnet_model_v1.dat")
    && FileManager.default.fileExists(atPath: repositoryDatasets + "/face-samples/obama.jpg")

/// `cloak faces` and `cloak verify faces` on real photos, with a folder mixing good photos and every kind
/// of odd input the issue lists.
@Suite("cloak faces and cloak verify faces", .enabled(if: faceDataInstalled, "needs the face models and sample photos (make setup)"))
struct FacesCLITests {
    let samples = repositoryDatasets + "/face-samples"
    let models = repositoryDatasets + "/dlib-models"

    /// Builds the mixed folder: returns the names of the photos that must be cloaked.
    func makeMixedFolder(_ dir: String) throws -> [String] {
        let photos = dir + "/photos"
        try FileManager.default.createDirectory(atPath: photos + "/holiday", withIntermediateDirectories: true)
        let obama = try ImageCodec.decode(path: samples + "/obama.jpg").image
        let obama2 = try ImageCodec.decode(path: samples + "/obama2.jpg").image
        // Good: a plain JPEG, in a subfolder.
        try FileManager.default.copyItem(atPath: samples + "/obama.jpg", toPath: photos + "/holiday/obama.jpg")
        // Good: a grayscale PNG.
        let grey = RGBImage(width: obama2.width, height: obama2.height, gray: obama2.floatLuma.map { UInt8(($0 * 255).rounded()) })
        try ImageCodec.write(grey, to: photos + "/grey.png", as: .png)
        // Good: 6000x4000 with the face at its original size.
        var big = RGBImage(width: 6000, height: 4000, fill: (90, 110, 130))
        for y in 0..<obama.height {
            for x in 0..<obama.width {
                for c in 0..<3 { big.pixels[((y + 1500) * 6000 + x + 2500) * 3 + c] = obama.pixels[(y * obama.width + x) * 3 + c] }
            }
        }
        try ImageCodec.write(big, to: photos + "/big.jpg", as: .jpeg, options: EncodeOptions(jpegQuality: 90))
        // Good: an Adobe CMYK JPEG (stored C'M'Y' = R G B with K' = 255, no black ink).
        var cmyk = [UInt8]()
        for i in stride(from: 0, to: obama2.pixels.count, by: 3) { cmyk += [obama2.pixels[i], obama2.pixels[i + 1], obama2.pixels[i + 2], 255] }
        try writeFileAtomically(try JPEGCodec.encodeSamples(cmyk, width: obama2.width, height: obama2.height, components: 4,
                                                            quality: 95, fullChroma: true, progressive: false, path: "cmyk.jpg"),
                                to: photos + "/cmyk.jpg")
        // Good: stored sideways with EXIF orientation 6 (the viewer turns it 90 degrees clockwise).
        var sideways = RGBImage(width: obama.height, height: obama.width)
        for y in 0..<obama.height {
            for x in 0..<obama.width {
                for c in 0..<3 { sideways.pixels[((obama.width - 1 - x) * obama.height + y) * 3 + c] = obama.pixels[(y * obama.width + x) * 3 + c] }
            }
        }
        let tiff: [UInt8] = Array("MM".utf8) + [0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        let app1 = Array("Exif".utf8) + [0, 0] + tiff
        let plain = try ImageCodec.encode(sideways, as: .jpeg)
        let rotated = Array(plain[..<2]) + [0xFF, 0xE1, UInt8((app1.count + 2) >> 8), UInt8((app1.count + 2) & 0xFF)] + app1 + Array(plain[2...])
        try writeFileAtomically(rotated, to: photos + "/rotated.jpg")
        // No face: a smooth synthetic picture.
        var sky = RGBImage(width: 400, height: 300)
        for i in 0..<(400 * 300) { sky.pixels[3 * i] = UInt8(i % 400 / 2); sky.pixels[3 * i + 1] = 150; sky.pixels[3 * i + 2] = 220 }
        try ImageCodec.write(sky, to: photos + "/sky.png", as: .png)
        // A group photo: obama.jpg as it is, and obama2.jpg shrunk 6x beside it (a face of about 45 px, which
        // only the detection on the doubled photo finds, as face_recognition's default tracker does).
        func shrunk(_ image: RGBImage, by factor: Int) -> RGBImage {
            let w = image.width / factor, h = image.height / factor
            return RGBImage(floats: Resize.area(image.floatRGB, width: image.width, height: image.height, channels: 3,
                                                toWidth: w, toHeight: h), width: w, height: h, channels: 3)
        }
        let small = shrunk(obama2, by: 6)
        var group = RGBImage(width: obama.width + small.width + 100, height: obama.height, fill: (120, 130, 140))
        for (image, left, top) in [(obama, 0, 0), (small, obama.width + 50, 400)] {
            for y in 0..<image.height {
                for x in 0..<(image.width * 3) { group.pixels[((y + top) * group.width + left) * 3 + x] = image.pixels[y * image.width * 3 + x] }
            }
        }
        try ImageCodec.write(group, to: photos + "/group.jpg", as: .jpeg, options: EncodeOptions(jpegQuality: 95))
        // A face under 40 pixels (about 25): obama.jpg shrunk 14x.
        try ImageCodec.write(shrunk(obama, by: 14), to: photos + "/tiny.png", as: .png)
        // Corrupt: a JPEG cut in half; garbage with a .jpg name.
        let bytes = [UInt8](FileManager.default.contents(atPath: samples + "/obama2.jpg")!)
        try writeFileAtomically(Array(bytes[..<(bytes.count / 2)]), to: photos + "/truncated.jpg")
        try writeFileAtomically(Array("not a photo".utf8), to: photos + "/notes.jpg")
        return ["big.jpg", "cmyk.jpg", "grey.png", "group.jpg", "holiday/obama.jpg", "rotated.jpg"]
    }

    func digests(_ folder: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: folder) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isDir), !isDir.boolValue {
                out[name] = try FileDigest.sha256(ofFileAt: folder + "/" + name)
            }
        }
        return out
    }

    @Test func mixedFolderHasAClearOutcomePerPhotoAndCloaksEveryGoodOne() throws {
        let dir = try makeWorkFolder()
        let good = try makeMixedFolder(dir)
        let before = try digests(dir + "/photos")
        let run = try CLI.run(["faces", "photos", "--models", models, "--json"], in: dir)
        #expect(run.status == 1, "failures make the exit status 1: \(run.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let photos = summary["photos"] as! [[String: Any]]
        func outcome(_ name: String) -> String? {
            photos.first { ($0["input"] as! String).hasSuffix("/photos/" + name) }?["outcome"] as? String
        }
        for name in good { #expect(outcome(name) == "cloaked", "\(name): \(photos)") }
        #expect(outcome("sky.png") == "no face")
        #expect(outcome("tiny.png") == "no face")
        #expect(outcome("truncated.jpg") == "failed")
        #expect(outcome("notes.jpg") == "failed")
        #expect(run.stderr.contains("photos/notes.jpg: not a PNG or JPEG file"))

        // Outputs beside the originals, only for the good photos; originals untouched.
        let after = try digests(dir + "/photos")
        for (name, digest) in before { #expect(after[name] == digest, "\(name) was modified") }
        let written = Set(after.keys).subtracting(before.keys)
        #expect(written == ["big.cloaked.jpg", "cmyk.cloaked.jpg", "grey.cloaked.png", "group.cloaked.jpg",
                            "holiday/obama.cloaked.jpg", "rotated.cloaked.jpg"])

        // Each cloaked face moved, within the cap (PNG: exactly), and the grey photo stayed grey.
        for photo in photos where photo["outcome"] as? String == "cloaked" {
            let faces = photo["faces"] as! [[String: Any]]
            #expect(faces.count == ((photo["input"] as! String).hasSuffix("group.jpg") ? 2 : 1), "\(photo["input"]!)")
            for face in faces {
                let shift = face["shift"] as? Double ?? 0, linf = face["linf"] as? Int ?? 99
                let dssim = face["dssim"] as? Double ?? 1
                #expect(shift >= 0.5, "\(photo["input"]!): \(face)")
                #expect(linf <= 6)
                #expect(dssim <= 0.005 + 1e-9)
                #expect(face["shiftAfterJPEG75"] as? Double != nil)
            }
        }
        let grey = try ImageCodec.decode(path: dir + "/photos/grey.cloaked.png").image
        #expect(grey.isGrayscale)
        #expect(ImageMetrics.linf(grey, try ImageCodec.decode(path: dir + "/photos/grey.png").image) <= 6)
        // The sideways photo was cloaked upright and written upright, without EXIF.
        let upright = try ImageCodec.decode(path: dir + "/photos/rotated.cloaked.jpg")
        #expect(upright.image.width == 910 && upright.image.height == 1137 && upright.metadata.exif == nil)
        let big = try ImageCodec.readHeader(path: dir + "/photos/big.cloaked.jpg")
        #expect(big.width == 6000 && big.height == 4000)

        // The store: one output per cloaked photo with its faces, failures for the broken files, no-face inputs.
        let store = try ProvenanceStore(path: dir + "/Store/cloak.sqlite")
        let runID = summary["runID"] as! Int64
        #expect(try store.outputCount(runID: runID) == 6)
        #expect(Set(try store.failures(runID: runID).map { ($0.path as NSString).lastPathComponent }) == ["truncated.jpg", "notes.jpg"])
        let provenance = try store.provenance(sha256: try FileDigest.sha256(ofFileAt: dir + "/photos/holiday/obama.cloaked.jpg"))
        let output = try #require(provenance.producedBy.first)
        let faces = try store.faces(outputID: output.output.id!)
        #expect(faces.count == 1)
        #expect(faces[0].embeddingShift >= 0.5 && faces[0].shiftAfterJPEG85 != nil && faces[0].differencePNG != nil)
        #expect(Set(output.models.map(\.role)) == ["detector", "landmarks", "embedder"])
        let shown = try CLI.run(["show", "photos/holiday/obama.cloaked.jpg"], in: dir)
        #expect(shown.stdout.contains("Made by run") && shown.stdout.contains("face 0      box ("), "\(shown.stdout)")
        let noFace = try store.provenance(sha256: try FileDigest.sha256(ofFileAt: dir + "/photos/sky.png"))
        #expect(noFace.readBy.map(\.role) == ["no face"])

        // Again: the cloaked outputs are skipped by name, the good photos are already cloaked.
        let again = try CLI.run(["faces", "photos", "--models", models, "--json", "--quiet"], in: dir)
        let second = (try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any])["photos"] as! [[String: Any]]
        #expect(second.filter { $0["outcome"] as? String == "already cloaked" }.count == 6)
        #expect(second.filter { $0["outcome"] as? String == "skipped" }.count == 6)
        #expect(second.filter { $0["outcome"] as? String == "cloaked" }.isEmpty)
        #expect(try digests(dir + "/photos") == after)
    }

    @Test func aMirroredTreeNeverWritesOverPhotosNoRunWrote() throws {
        // --out pointed at a copy of the photos (a backup, say): the outputs would be named as those files.
        let dir = try makeWorkFolder()
        for folder in ["me", "backup"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: samples + "/obama.jpg", toPath: dir + "/\(folder)/obama.jpg")
        }
        let before = try FileDigest.sha256(ofFileAt: dir + "/backup/obama.jpg")
        let run = try CLI.run(["faces", "me", "--out", "backup", "--mode", "low", "--no-recompression-check",
                               "--models", models, "--quiet"], in: dir)
        #expect(run.status == 1)
        #expect(run.stderr.contains("backup/obama.jpg is already there and no recorded run wrote it"), "\(run.stderr)")
        #expect(try FileDigest.sha256(ofFileAt: dir + "/backup/obama.jpg") == before)
    }

    @Test func mirroredTreeFormatsForceAndVerify() throws {
        let dir = try makeWorkFolder()
        try FileManager.default.createDirectory(atPath: dir + "/me", withIntermediateDirectories: true)
        for name in ["obama.jpg", "obama3.jpg", "obama_partial_face.jpg"] {
            try FileManager.default.copyItem(atPath: samples + "/" + name, toPath: dir + "/me/" + name)
        }
        let made = try CLI.run(["faces", "me", "--out", "cloaked", "--format", "png", "--mode", "low",
                                "--no-recompression-check", "--models", models], in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("| obama3.jpg | 0 |"))
        for name in ["obama", "obama3", "obama_partial_face"] {
            let original = try ImageCodec.decode(path: dir + "/me/\(name).jpg").image
            let cloaked = try ImageCodec.decode(path: dir + "/cloaked/\(name).png").image
            #expect(ImageMetrics.linf(original, cloaked) <= 6, "\(name)")
            #expect(ImageMetrics.psnr(original, cloaked) >= 40, "\(name)")
        }
        // --force redoes a photo the store shows as done.
        let forced = try CLI.run(["faces", "me/obama.jpg", "--out", "cloaked", "--format", "png", "--mode", "low",
                                  "--no-recompression-check", "--force", "--models", models], in: dir)
        #expect(forced.stdout.contains("Cloaked 1 photo(s)"), "\(forced.stdout)")

        // --target pulls the face toward another person (obama.jpg is 0.85 from biden.jpg before).
        try FileManager.default.createDirectory(atPath: dir + "/someone", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: samples + "/biden.jpg", toPath: dir + "/someone/biden.jpg")
        let targeted = try CLI.run(["faces", "me/obama.jpg", "--target", "someone", "--out", "targeted", "--mode", "low",
                                    "--no-recompression-check", "--json", "--models", models], in: dir)
        #expect(targeted.status == 0, "\(targeted.stderr)")
        let t = try JSONSerialization.jsonObject(with: Data(targeted.stdout.utf8)) as! [String: Any]
        let targetFace = ((t["photos"] as! [[String: Any]])[0]["faces"] as! [[String: Any]])[0]
        #expect(t["targeted"] as? Bool == true)
        #expect((targetFace["targetDistance"] as? Double ?? 1) < 0.6, "\(targetFace)")

        // The verification pairs originals with the mirrored copies and runs the tracker test.
        let verified = try CLI.run(["verify", "faces", "me", "cloaked", "--others", samples + "/biden.jpg",
                                    "--report", "report", "--models", models], in: dir)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("| obama.jpg | 0 |"))
        #expect(verified.stdout.contains("nearest identity"))
        let report = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/report/report.json")!)
            as! [String: Any]
        let pairs = report["pairs"] as! [[String: Any]]
        #expect(pairs.count == 3)
        for pair in pairs {
            let shift = try #require((pair["faces"] as! [[String: Any]]).first?["shift"] as? Double)
            #expect(shift >= 0.4, "\(pair)")
        }
        #expect((report["probes"] as! [[String: Any]]).count == 3)
        let html = try String(contentsOfFile: dir + "/report/report.html", encoding: .utf8)
        #expect(html.contains("data:image/png;base64,") && html.contains("Tracker test"))
        let store = try ProvenanceStore(path: dir + "/Store/cloak.sqlite")
        let runs = try store.recentRuns(limit: 5)
        #expect(runs.first?.command == "verify faces")
        #expect(try store.verifications(runID: runs.first!.id).map(\.isBaseline) == [false, true])
    }

    @Test func killedRunResumesAsTheSameRun() throws {
        let dir = try makeWorkFolder()
        try FileManager.default.createDirectory(atPath: dir + "/me", withIntermediateDirectories: true)
        let names = ["obama.jpg", "obama2.jpg", "obama3.jpg"]
        for name in names { try FileManager.default.copyItem(atPath: samples + "/" + name, toPath: dir + "/me/" + name) }
        let arguments = ["faces", "me", "--mode", "low", "--no-recompression-check", "--models", models, "--quiet"]
        let process = try CLI.start(arguments, in: dir)
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: dir + "/me/obama.cloaked.jpg") && Date() < deadline && process.isRunning {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: dir + "/me/obama.cloaked.jpg"))
        let written = try FileDigest.sha256(ofFileAt: dir + "/me/obama.cloaked.jpg")

        let again = try CLI.run(arguments + ["--json"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        #expect(summary["resumed"] as? Bool == true)
        let store = try ProvenanceStore(path: dir + "/Store/cloak.sqlite")
        let runs = try store.recentRuns(limit: 10)
        #expect(runs.count == 1 && runs[0].status == .done && runs[0].resumedCount == 1)
        #expect(try store.outputCount(runID: runs[0].id) == 3)
        #expect(try FileDigest.sha256(ofFileAt: dir + "/me/obama.cloaked.jpg") == written, "the finished photo was not redone")
        for name in names {
            #expect(FileManager.default.fileExists(atPath: dir + "/me/" + name.replacingOccurrences(of: ".jpg", with: ".cloaked.jpg")))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/me").filter { $0.contains("cloak-tmp") }
        #expect(leftovers.isEmpty)
    }
}
