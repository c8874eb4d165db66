import CloakImage
import CloakNN
import CloakTensor
import Foundation

/// Cloaks the faces of a photo against face recognition: a small perturbation on the photo's own pixels
/// that moves each face's dlib descriptor far from where it was (or toward another identity), within an
/// RGB structural-similarity budget and a hard per-sample cap.
///
/// For each face, on its region (the chip's source region plus a margin, full resolution):
/// ```
/// x = clamp(input + δ, input - cap, input + cap) ∩ [0, 255]
/// loss(x) = ∓ mean_j ‖ embed(warp_j(x)) - e ‖ + w · (‖g_embed‖ / ‖g_dssim‖) · DSSIM(x)   while DSSIM > 0.95 · budget
/// ```
/// `warp_j` is dlib's chip extraction (``ChipWarp``; the crop and pyramid shared by all jitters) with the
/// chip moved by a random small similarity (shift, scale, rotation; a fresh set each step: expectation over
/// the misalignments another tracker's detector makes); `e` is the face's own descriptor (untargeted:
/// maximise) or the target (targeted: minimise). The penalty weight `w` doubles (up to 16) while DSSIM exceeds
/// the budget and halves (down to 0.25) while it is below 90 % of it. Adam in pixel units (optionally with a
/// half-cosine learning-rate decay, ``CloakSettings/finalLearningRateFraction``). The best iterate within
/// budget is kept (not the last), rounded to 8 bits within the cap, and shrunk if rounding pushed its DSSIM
/// over the budget.
///
/// The result is measured as a tracker would see it: faces re-detected on the cloaked photo, fresh
/// un-jittered 8-bit chips, descriptor distance to the input's chip.
///
/// Seeded: equal photo, faces, settings and seed give an equal result. Not thread-safe (the embedder
/// caches its forward pass); use one cloaker per thread.
public final class FaceCloaker {
    /// The descriptor network the cloak is optimised against and measured with.
    public let embedder: FaceEmbedder
    /// Re-detects and re-aligns the faces on the cloaked photo for the measurement.
    public let finder: FaceFinder
    /// Budget, steps, jitters and seed.
    public var settings: CloakSettings

    /// A cloaker with the default mode's settings unless given others.
    public init(embedder: FaceEmbedder, finder: FaceFinder, settings: CloakSettings = CloakMode.standard.settings()) {
        self.embedder = embedder
        self.finder = finder
        self.settings = settings
    }

    /// Cloaks every face of `faces` (as ``FaceFinder/faces(in:)`` found them on `photo`), one after another.
    /// Where face regions overlap, the earlier face owns the overlap: a later face starts from the earlier
    /// face's pixels there and may not change them, so every face's region stays within its budget.
    ///
    /// - Parameters:
    ///   - photo: the upright photo (EXIF orientation applied), full resolution.
    ///   - faces: the faces to cloak; may be empty (the photo is returned unchanged).
    ///   - objective: untargeted (default) or toward a target descriptor.
    ///   - progress: called after every optimisation step of every face (for progress bars and ETAs).
    public func cloak(_ photo: RGBImage, faces: [DetectedFace], objective: CloakObjective = .untargeted,
                      progress: ((CloakProgress) -> Void)? = nil) -> CloakedPhoto {
        let start = Date()
        if case .targeted(let t) = objective {
            precondition(t.count == embedder.descriptorLength,
                         "target descriptor needs \(embedder.descriptorLength) values, got \(t.count)")
        }
        for face in faces {
            precondition(face.chip.region.isEmpty || (face.chip.region.right < photo.width && face.chip.region.bottom < photo.height),
                         "FaceCloaker: face \(face.detection.box) was found on another photo than this \(photo.width)x\(photo.height) one")
        }
        var output = photo
        var results: [(region: FaceBox, seconds: Double, trace: [CloakStep])] = []
        for (index, face) in faces.enumerated() {
            let faceStart = Date()
            let region = workingRegion(for: face.chip, photo: photo)
            guard region.width >= ColourDissimilarity.windowSize, region.height >= ColourDissimilarity.windowSize else {
                results.append((region, 0, []))
                continue
            }
            var generator = SplitMix64(seed: settings.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let (pixels, trace) = optimise(
                original: FloatRGBImage(FaceChipExtractor.crop(photo, region)),
                start: FloatRGBImage(FaceChipExtractor.crop(output, region)),
                landmarks: face.landmarks.map { FacePoint(x: $0.x - Double(region.left), y: $0.y - Double(region.top)) },
                frozen: results.map(\.region).map { earlier in
                    FaceBox(left: earlier.left - region.left, top: earlier.top - region.top,
                            right: earlier.right - region.left, bottom: earlier.bottom - region.top)
                },
                objective: objective, generator: &generator) { step in
                    progress?(CloakProgress(face: index, faceCount: faces.count, step: step, stepCount: self.settings.steps))
                }
            Self.paste(pixels, into: &output, at: region)
            results.append((region, Date().timeIntervalSince(faceStart), trace))
        }
        let measured = embeddingShifts(original: photo, cloaked: output, faces: faces, objective: objective)
        let cloakedFaces = faces.indices.map { i -> CloakedFace in
            let region = results[i].region
            var dssim = 0.0, change = 0, psnr = Double.infinity
            if region.width >= ColourDissimilarity.windowSize && region.height >= ColourDissimilarity.windowSize {
                let before = FaceChipExtractor.crop(photo, region), after = FaceChipExtractor.crop(output, region)
                dssim = ColourDissimilarity(reference: FloatRGBImage(before)).dissimilarity(FloatRGBImage(after))
                change = ImageMetrics.linf(before, after)
                psnr = ImageMetrics.psnr(before, after)
            }
            return CloakedFace(box: faces[i].detection.box, region: region, embeddingShift: measured[i].shift,
                               redetected: measured[i].redetected, targetDistance: measured[i].targetDistance,
                               dissimilarity: dssim, regionPSNR: psnr, maximumChange: change,
                               seconds: results[i].seconds, trace: results[i].trace)
        }
        return CloakedPhoto(image: output, faces: cloakedFaces, psnr: ImageMetrics.psnr(photo, output),
                            ssim: Self.wholeImageSSIM(photo, output, regions: results.map(\.region)),
                            seconds: Date().timeIntervalSince(start))
    }

    /// The chip's source region grown by the margin (at least as far as the largest jitter reaches), clipped
    /// to the photo.
    func workingRegion(for plan: FaceChipPlan, photo: RGBImage) -> FaceBox {
        let r = plan.region
        let margin = Int((settings.marginFraction * Double(max(r.width, r.height))).rounded()) + settings.marginPixels
        let grow = max(margin, Int(jitterReach(plan.details).rounded(.up)) + 2)
        return FaceBox(left: r.left - grow, top: r.top - grow, right: r.right + grow, bottom: r.bottom + grow)
            .intersection(FaceBox(left: 0, top: 0, right: photo.width - 1, bottom: photo.height - 1))
    }

    // MARK: - Optimisation of one face

    /// Optimises one face region. `original` is the input's pixels there (the budget's reference), `start`
    /// the current pixels (earlier faces may have changed some), `landmarks` in region coordinates.
    /// Pixels inside the `frozen` boxes (earlier faces' regions, region coordinates) keep their `start` values,
    /// so an earlier face's region, and the budget it was held to, is never touched again.
    /// Returns the kept 8-bit pixels of the region and the trace.
    func optimise(original: FloatRGBImage, start: FloatRGBImage, landmarks: [FacePoint], frozen: [FaceBox],
                  objective: CloakObjective,
                  generator: inout SplitMix64, stepDone: (Int) -> Void = { _ in }) -> (FloatRGBImage, [CloakStep]) {
        let (w, h) = (original.width, original.height)
        let cap = Float(settings.maximumChange), budget = settings.dissimilarityBudget
        var lower = original.values.map { max($0 - cap, 0) }, upper = original.values.map { min($0 + cap, 255) }
        for box in frozen {
            let b = box.intersection(FaceBox(left: 0, top: 0, right: w - 1, bottom: h - 1))
            guard !b.isEmpty else { continue }
            for y in b.top...b.bottom {
                for i in ((y * w + b.left) * 3)..<((y * w + b.right + 1) * 3) {
                    lower[i] = start.values[i]
                    upper[i] = start.values[i]
                }
            }
        }
        let dssim = ColourDissimilarity(reference: original)
        let details = FaceChipDetails(landmarks: landmarks, size: embedder.chipSize, padding: finder.chipPadding)
        let plan = FaceChipPlan(details: details, photoWidth: w, photoHeight: h)
        guard !plan.region.isEmpty else { return (start, []) }
        var chips = JitteredChipBatch(plan: plan, width: w, height: h, margin: jitterReach(details) + 2)
        let cleanChip = chips.forward(original, transforms: [chips.chipToLevel])[0]
        let ownDescriptor = embedder.descriptors(of: [cleanChip]).scalars
        let target: [Float]?
        if case .targeted(let t) = objective { target = t } else { target = nil }

        // Start: the current pixels plus a little seeded noise (breaks the zero-distance symmetry).
        var x = start
        for i in x.values.indices {
            x.values[i] = min(max(x.values[i] + Float.random(in: -0.5...0.5, using: &generator), lower[i]), upper[i])
        }
        var adam = AdamState(count: x.values.count, learningRate: settings.learningRate)
        var penaltyWeight: Float = 1
        var best: (score: Float, x: FloatRGBImage)?
        var trace: [CloakStep] = []
        let jitters = settings.jittersPerStep
        for step in 0...settings.steps {
            let transforms = (0..<jitters).map { _ in randomTransform(chips, generator: &generator) }
            let descriptors = embedder.descriptors(of: chips.forward(x, transforms: transforms)).scalars
            let n = embedder.descriptorLength
            var gradient = [Float](repeating: 0, count: descriptors.count)
            var shift: Float = 0, toTarget: Float = 0
            for j in 0..<jitters {
                let d = Array(descriptors[(j * n)..<((j + 1) * n)])
                let away = zip(d, ownDescriptor).map { $0 - $1 }
                let awayNorm = away.reduce(0) { $0 + $1 * $1 }.squareRoot()
                shift += awayNorm / Float(jitters)
                if let target {
                    let toward = zip(d, target).map { $0 - $1 }
                    let norm = toward.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    toTarget += norm / Float(jitters)
                    if norm > 0 { for k in 0..<n { gradient[j * n + k] = toward[k] / (norm * Float(jitters)) } }
                } else if awayNorm > 0 {
                    for k in 0..<n { gradient[j * n + k] = -away[k] / (awayNorm * Float(jitters)) }
                }
            }
            let (currentDSSIM, dssimGradient) = dssim.dissimilarityAndGradient(x)
            trace.append(CloakStep(shift: shift, targetDistance: target == nil ? nil : toTarget, dissimilarity: currentDSSIM))
            let score = target == nil ? shift : -toTarget
            if currentDSSIM <= budget, best.map({ score > $0.score }) ?? true { best = (score, x) }
            if step == settings.steps { break }

            // Gradient of the descriptor term on the region's pixels.
            let chipGradients = embedder.chipGradients(Tensor(shape: [jitters, n], scalars: gradient))
            var descriptorGradient = FloatRGBImage(width: w, height: h)
            chips.addBackward(chipGradients, into: &descriptorGradient)
            var total = descriptorGradient.values
            // Budget penalty, scaled to the descriptor gradient, with an adaptive weight.
            if currentDSSIM > 0.95 * budget {
                let ge = total.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let gd = dssimGradient.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if gd > 0 {
                    let scale = penaltyWeight * max(ge, 1e-12) / gd
                    for i in total.indices { total[i] += scale * dssimGradient.values[i] }
                }
            }
            if currentDSSIM > budget { penaltyWeight = min(penaltyWeight * 2, 16) }
            else if currentDSSIM < 0.9 * budget { penaltyWeight = max(penaltyWeight / 2, 0.25) }
            let progress = settings.steps > 1 ? Float(step) / Float(settings.steps - 1) : 0
            let fraction = settings.finalLearningRateFraction
            adam.learningRate = settings.learningRate * (fraction + (1 - fraction) * (1 + cos(.pi * progress)) / 2)
            adam.step(&x.values, gradient: total)
            for i in x.values.indices { x.values[i] = min(max(x.values[i], lower[i]), upper[i]) }
            stepDone(step + 1)
        }
        let kept = best?.x ?? start
        return (rounded(kept, start: start, dssim: dssim), trace)
    }

    /// 8-bit pixels of `x` (within the cap around whole-level `start` values, so rounding keeps the cap);
    /// if rounding lifted the DSSIM over budget, the change from `start` is shrunk until it fits.
    private func rounded(_ x: FloatRGBImage, start: FloatRGBImage, dssim: ColourDissimilarity) -> FloatRGBImage {
        var factor: Float = 1
        while true {
            var out = x
            for i in out.values.indices {
                let change = ((x.values[i] - start.values[i]) * factor).rounded()
                out.values[i] = min(max(start.values[i] + change, 0), 255)
            }
            if factor < 0.05 || dssim.dissimilarity(out) <= settings.dissimilarityBudget { return out }
            factor *= 0.9
        }
    }

    /// How far (photo pixels) the largest jitter moves a corner of the chip.
    func jitterReach(_ details: FaceChipDetails) -> Double {
        let s = settings, half = Double(details.size) / 2
        return (s.maximumJitterShift + half * (s.maximumJitterScale + s.maximumJitterRotation * .pi / 180))
            * 2.0.squareRoot() * details.width / Double(details.size)
    }

    /// A random chip-space jitter (shift, scale, rotation within the settings' ranges) for `chips`.
    private func randomTransform(_ chips: JitteredChipBatch, generator: inout SplitMix64) -> AffineTransform2D {
        let s = settings
        let dx = Double.random(in: -s.maximumJitterShift...s.maximumJitterShift, using: &generator)
        let dy = Double.random(in: -s.maximumJitterShift...s.maximumJitterShift, using: &generator)
        let scale = 1 + Double.random(in: -s.maximumJitterScale...s.maximumJitterScale, using: &generator)
        let angle = Double.random(in: -s.maximumJitterRotation...s.maximumJitterRotation, using: &generator) * .pi / 180
        return chips.transform(shiftX: dx, shiftY: dy, scale: scale, rotation: angle)
    }
}
