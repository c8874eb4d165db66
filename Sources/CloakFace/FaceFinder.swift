import CloakImage

/// One face found in a photo, with everything needed to cut and cloak its chip.
public struct DetectedFace: Sendable {
    /// The detector's box and score, in full-resolution photo coordinates.
    public var detection: FaceDetection
    /// The 5 dlib landmarks in photo pixels (whole pixels, as dlib rounds them), in dlib's order:
    /// 0 outer and 1 inner corner of the eye on the photo's right (the subject's left eye), 2 outer and
    /// 3 inner corner of the other eye, 4 the base of the nose.
    public var landmarks: [FacePoint]
    /// How dlib would cut the 150x150 chip from the full-resolution photo.
    public var chip: FaceChipPlan
}

/// dlib's face pipeline without the neural networks: HOG detection (on a downscaled copy of large
/// photos, on a doubled one with ``upsample``), 5-point landmarks and the aligned-chip plan, all in
/// full-resolution photo coordinates.
public struct FaceFinder: Sendable {
    public let detector: HOGFaceDetector
    public let predictor: ShapePredictor
    /// Photos whose longer side exceeds this are shrunk (area averaging) for detection only; each box is
    /// mapped back, re-detected in a full-resolution crop around it (so it lands close to the box dlib finds
    /// on the full photo), and landmarks are found on the full-resolution photo. Faces narrower than about
    /// `80 * longerSide / maximumDetectionSide / 2^upsample` pixels are then missed (``smallestFace(longerSide:)``).
    public var maximumDetectionSide: Int
    /// How many times the detection image is doubled first, as dlib's `detector(img, upsample)`: each
    /// doubling halves the smallest face found (80 px without, about 40 px with one) and quadruples the
    /// detection time. `face_recognition`, the common tracker built on dlib, doubles once by default, so a
    /// cloak that is to cover every face such a tracker finds needs 1.
    public var upsample = 0
    /// Added to the detector's thresholds (dlib's `adjust_threshold`, default 0).
    public var adjustThreshold: Double = 0
    /// Chip size and padding (dlib's face descriptor: 150 and 0.25).
    public var chipSize = 150
    public var chipPadding = 0.25

    /// File names of the models under `Datasets/dlib-models/` (see `scripts/fetch-face-data.sh`).
    public static let detectorFileName = "frontal_face_detector.dat"
    public static let predictorFileName = "shape_predictor_5_face_landmarks.dat"

    public init(detector: HOGFaceDetector, predictor: ShapePredictor, maximumDetectionSide: Int = 2000, upsample: Int = 0) {
        precondition(maximumDetectionSide >= 80, "maximumDetectionSide must be at least the 80 px detection window")
        precondition(upsample >= 0, "upsample must be >= 0, got \(upsample)")
        self.detector = detector
        self.predictor = predictor
        self.maximumDetectionSide = maximumDetectionSide
        self.upsample = upsample
    }

    /// The smallest face (box side, photo pixels) found in a photo whose longer side is `longerSide`.
    public func smallestFace(longerSide: Int) -> Int {
        let shrink = max(1, Double(longerSide) / Double(maximumDetectionSide))
        return Int((80 * shrink / Double(1 << upsample)).rounded(.up))
    }

    /// Loads both models from a folder holding ``detectorFileName`` and ``predictorFileName``.
    public init(modelsDirectory: String, maximumDetectionSide: Int = 2000, upsample: Int = 0) throws {
        let detector = try HOGFaceDetector(contentsOf: modelsDirectory + "/" + Self.detectorFileName)
        let predictor = try ShapePredictor(contentsOf: modelsDirectory + "/" + Self.predictorFileName)
        self.init(detector: detector, predictor: predictor, maximumDetectionSide: maximumDetectionSide, upsample: upsample)
    }

    /// Re-detects a face found on a downscaled copy in a full-resolution crop around it (the box grown by
    /// half its size on every side), so its box is quantised at the photo's resolution as dlib's run on the
    /// full photo is (the crop's pyramid levels are not quite the photo's: a box can differ by a pyramid
    /// step). The crop is doubled as often as the face needs to fill the 80 px window, and at least
    /// ``upsample`` times. Keeps the mapped box when the crop finds no overlapping face.
    private func refined(_ mapped: FaceDetection, in photo: RGBImage) -> FaceDetection {
        let grow = max(mapped.box.width, mapped.box.height) / 2
        let crop = FaceBox(left: mapped.box.left - grow, top: mapped.box.top - grow,
                           right: mapped.box.right + grow, bottom: mapped.box.bottom + grow)
            .intersection(FaceBox(left: 0, top: 0, right: photo.width - 1, bottom: photo.height - 1))
        guard !crop.isEmpty else { return mapped }
        var doublings = upsample
        while min(crop.width, crop.height, mapped.box.width, mapped.box.height) << doublings < 80 { doublings += 1 }
        let found = detector.detect(in: FaceChipExtractor.crop(photo, crop), upsample: doublings,
                                    adjustThreshold: adjustThreshold - 0.5)
        let shifted = found.map { d -> FaceDetection in
            var d = d
            d.box = FaceBox(left: d.box.left + crop.left, top: d.box.top + crop.top,
                            right: d.box.right + crop.left, bottom: d.box.bottom + crop.top)
            return d
        }
        guard let best = shifted.max(by: { $0.box.iou(mapped.box) < $1.box.iou(mapped.box) }),
              best.box.iou(mapped.box) >= 0.4 else { return mapped }
        return FaceDetection(box: best.box, score: max(best.score, mapped.score), filterIndex: best.filterIndex)
    }

    /// All faces in `photo`, best detection first.
    public func faces(in photo: RGBImage) -> [DetectedFace] {
        let longer = max(photo.width, photo.height)
        var detections: [FaceDetection]
        if longer > maximumDetectionSide {
            let scale = Double(longer) / Double(maximumDetectionSide)
            let w = max(1, Int((Double(photo.width) / scale).rounded())), h = max(1, Int((Double(photo.height) / scale).rounded()))
            let small = ImagePyramid.areaAverage(photo, width: w, height: h)
            let sx = Double(photo.width) / Double(w), sy = Double(photo.height) / Double(h)
            detections = detector.detect(in: small, upsample: upsample, adjustThreshold: adjustThreshold).map { d in
                // Pixel centres: x_photo = (x_small + 0.5) * s - 0.5.
                var d = d
                d.box = FaceBox(left: roundHalfAway((Double(d.box.left) + 0.5) * sx - 0.5),
                                top: roundHalfAway((Double(d.box.top) + 0.5) * sy - 0.5),
                                right: roundHalfAway((Double(d.box.right) + 0.5) * sx - 0.5),
                                bottom: roundHalfAway((Double(d.box.bottom) + 0.5) * sy - 0.5))
                return refined(d, in: photo)
            }
        } else {
            detections = detector.detect(in: photo, upsample: upsample, adjustThreshold: adjustThreshold)
        }
        return located(detections, in: photo)
    }

    /// Landmarks and chip plan of each detection.
    private func located(_ detections: [FaceDetection], in photo: RGBImage) -> [DetectedFace] {
        detections.map { d in
            let landmarks = predictor.landmarks(in: photo, box: d.box)
            let details = FaceChipDetails(landmarks: landmarks, size: chipSize, padding: chipPadding)
            return DetectedFace(detection: d, landmarks: landmarks,
                                chip: FaceChipPlan(details: details, photoWidth: photo.width, photoHeight: photo.height))
        }
    }
}
