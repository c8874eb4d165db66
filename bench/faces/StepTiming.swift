// Times one face-cloak step of Cloak's own code, part by part, on real faces with dlib's real weights: what
// `FaceCloaker.optimise` does per step, minus Adam and the clamps. Not a SwiftPM target (Package.swift is not
// touched): bench/faces/build-step-timing.sh compiles it against the objects of `swift build -c release
// -Xswiftc -enable-testing` (for `@testable` access to the internal JitteredChipBatch and workingRegion).
//
//   cloak-face-step <models folder> <reps> <warmup> <photo>...
//
// Prints one JSON object with, for the first face of each photo (set up as `FaceCloaker.optimise` sets it up: the
// working region, dlib's chip plan, the jittered-chip batch): the region and crop sizes and, per part, the median
// milliseconds of `reps` steps after `warmup` untimed ones: warp forward (crop, pyramid, 4 bilinear chips),
// embedder forward (batch 4), embedder backward (input gradient), warp backward, DSSIM with its gradient on the
// region; and the median per-step sum of the network + warp parts (what torch_step.py times in PyTorch), with
// the mean process CPU time (all threads) of those parts per step.
@testable import CloakFace
import CloakImage
import CloakTensor
import Foundation

let args = CommandLine.arguments
guard args.count >= 5, let reps = Int(args[2]), let warmup = Int(args[3]) else {
    FileHandle.standardError.write("usage: cloak-face-step <models folder> <reps> <warmup> <photo>...\n".data(using: .utf8)!)
    exit(2)
}
let finder = try FaceFinder(modelsDirectory: args[1])
let embedder = try FaceEmbedder(contentsOf: args[1] + "/" + FaceEmbedder.fileName)
let settings = CloakMode.standard.settings()
let cloaker = FaceCloaker(embedder: embedder, finder: finder, settings: settings)
let parts = ["warp forward", "embedder forward", "embedder backward", "warp backward", "dssim + gradient"]
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
/// Process CPU time (all threads), milliseconds.
func cpu() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3
}
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
var generator = SplitMix64(seed: 0)
var results: [[String: Any]] = []

for path in args[4...] {
    let photo = try ImageCodec.decode(path: path).image
    guard let face = finder.faces(in: photo).first else {
        FileHandle.standardError.write("cloak-face-step: no face in \(path), skipped\n".data(using: .utf8)!)
        continue
    }
    // As FaceCloaker.optimise sets up a face.
    let region = cloaker.workingRegion(for: face.chip, photo: photo)
    let original = FloatRGBImage(FaceChipExtractor.crop(photo, region))
    let landmarks = face.landmarks.map { FacePoint(x: $0.x - Double(region.left), y: $0.y - Double(region.top)) }
    let details = FaceChipDetails(landmarks: landmarks, size: embedder.chipSize, padding: finder.chipPadding)
    let plan = FaceChipPlan(details: details, photoWidth: original.width, photoHeight: original.height)
    var chips = JitteredChipBatch(plan: plan, width: original.width, height: original.height,
                                  margin: cloaker.jitterReach(details) + 2)
    let dssim = ColourDissimilarity(reference: original)
    var x = original
    for i in x.values.indices { x.values[i] = min(max(x.values[i] + Float.random(in: -3...3, using: &generator), 0), 255) }

    var times = [[Double]](repeating: [], count: parts.count)
    var networkAndWarp: [Double] = []
    var networkAndWarpCPU = 0.0
    for r in 0..<(warmup + reps) {
        let transforms = (0..<settings.jittersPerStep).map { _ in
            chips.transform(shiftX: Double.random(in: -3...3, using: &generator),
                            shiftY: Double.random(in: -3...3, using: &generator),
                            scale: 1 + Double.random(in: -0.05...0.05, using: &generator),
                            rotation: Double.random(in: -4...4, using: &generator) * .pi / 180)
        }
        let c0 = cpu()
        var t = [now()]
        let batch = chips.forward(x, transforms: transforms); t.append(now())
        let d = embedder.descriptors(of: batch).scalars; t.append(now())
        let grads = embedder.chipGradients(Tensor(shape: [transforms.count, embedder.descriptorLength],
                                                  scalars: d.map { $0 * 0.01 })); t.append(now())
        var g = FloatRGBImage(width: x.width, height: x.height)
        chips.addBackward(grads, into: &g); t.append(now())
        let c1 = cpu()
        let (_, dg) = dssim.dissimilarityAndGradient(x); t.append(now())
        // A stand-in for Adam's move, so consecutive steps see different pixels.
        for i in x.values.indices {
            x.values[i] = min(max(x.values[i] - (g.values[i] + dg.values[i] > 0 ? 0.5 : -0.5), 0), 255)
        }
        if r >= warmup {
            for p in parts.indices { times[p].append(t[p + 1] - t[p]) }
            networkAndWarp.append(t[4] - t[0])
            networkAndWarpCPU += c1 - c0
        }
    }
    var partMs: [String: Double] = [:]
    for p in parts.indices { partMs[parts[p]] = median(times[p]) }
    results.append(["photo": path, "region": "\(region.width)x\(region.height)",
                    "crop": "\(chips.crop.width)x\(chips.crop.height)", "pyramidLevels": plan.pyramidLevels,
                    "networkAndWarpMs": median(networkAndWarp), "networkAndWarpCPUMs": networkAndWarpCPU / Double(reps),
                    "partsMs": partMs])
}
let json: [String: Any] = ["reps": reps, "warmup": warmup, "jitters": settings.jittersPerStep, "faces": results]
let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
print(String(data: data, encoding: .utf8)!)
