import CloakData
import CloakFace
import CloakImage
import CloakStore
import CloakSupport
import Foundation

/// `cloak verify faces <originals> <cloaked>`: does the cloak keep a face recogniser from tying the photos
/// to the person?
///
/// 1. Pairs each original photo with its cloaked copy (same relative path with any image extension in the
///    cloaked folder, or `<name>.cloaked.<ext>`), detects and aligns the faces on both independently (as a
///    tracker would) and reports each face's descriptor shift.
/// 2. The tracker test: the tracker enrols the *cloaked* photos as the person's gallery and is probed with
///    each clean photo it did not enrol (the photo's own cloaked copy is left out of the gallery). A probe
///    matches when its distance to a gallery face is below dlib's 0.6 threshold. For contrast the same with
///    the clean photos as the gallery. With `--others` (a folder of other people: one subfolder per person,
///    or one photo per person), each probe is also given to a tracker that names the nearest enrolled
///    person however far away (closed-set identification, the threat model of Fawkes' paper): the person's
///    cloaked gallery against the other people's photos.
///
/// Each photo stands for one person through its largest face. The verdict is that protection holds only
/// when no clean probe matches the cloaked gallery while at least one matches the clean gallery (else the
/// tracker could not recognise the person at all, and the test says nothing: inconclusive), and, with
/// `--others`, when the nearest-person tracker names someone else for every probe (else: weakened).
public struct FaceVerification: RecordedJob {
    public var originals: String
    public var cloaked: String
    public var others: String?
    public var reportFolder: String?
    public var modelsDirectory: String
    /// Doublings before detection (``FaceFinder/upsample``): the tracker finds faces from about 40 px with 1.
    public var upsample = FaceModels.defaultUpsample
    public var quiet: Bool
    /// dlib's same-person threshold.
    public var threshold: Double = 0.6

    public init(originals: String, cloaked: String, others: String? = nil, reportFolder: String? = nil,
                modelsDirectory: String = FaceModels.defaultDirectory, quiet: Bool = false) {
        self.originals = originals
        self.cloaked = cloaked
        self.others = others
        self.reportFolder = reportFolder
        self.modelsDirectory = modelsDirectory
        self.quiet = quiet
    }

    /// One face of an original photo and what became of it on the cloaked copy.
    public struct PairFace: Codable, Sendable, Equatable {
        public var box: FaceBox
        /// Descriptor distance to the overlapping face found on the cloaked copy; `nil` when none was found.
        public var shift: Double?
    }

    /// An original photo and its cloaked copy.
    public struct Pair: Codable, Sendable, Equatable {
        public var original: String
        public var cloaked: String?
        public var faces: [PairFace]
        /// Why the pair could not be measured (no copy, unreadable, different size, no face).
        public var problem: String?
    }

    /// One clean photo probing the galleries.
    public struct Probe: Codable, Sendable, Equatable {
        public var photo: String
        /// Nearest distance to the cloaked gallery (the other photos' cloaked copies) and how many match.
        public var nearestCloaked: Double?
        public var matchesCloaked: Int
        /// The same with the clean photos as the gallery.
        public var nearestClean: Double?
        public var matchesClean: Int
        public var gallerySize: Int
        /// With `--others`: the identity nearest to the probe (`"this person (cloaked gallery)"` or an
        /// other's name) and its distance: what a tracker that names the nearest enrolled person answers.
        public var nearestIdentity: String?
        public var nearestIdentityDistance: Double?
        /// With `--others`: the nearest of the other people and its distance.
        public var nearestOther: String?
        public var nearestOtherDistance: Double?

        /// A tracker that names the nearest enrolled person named this one (`false` without `--others`).
        public var identifiedAmongOthers: Bool { nearestIdentity == FaceVerification.selfIdentity }
    }

    public struct Result: Codable, Sendable {
        public var runID: Int64
        public var originals: String
        public var cloaked: String
        public var threshold: Double
        public var pairs: [Pair]
        public var probes: [Probe]
        /// Other identities and how many of their photos had a face.
        public var others: [String: Int]
        /// No clean probe matched the cloaked gallery, at least one matched the clean gallery, and (with
        /// `--others`) no probe's nearest identity was the person's cloaked gallery.
        public var holds: Bool
        public var seconds: Double
    }

    static let selfIdentity = "this person (cloaked gallery)"

    /// What the tracker test shows; the raw value is the report's word for it.
    enum Verdict: String {
        case holds, weakened, broken, inconclusive
    }

    /// `broken` when any clean probe matches the cloaked gallery; `inconclusive` with fewer than two probes or
    /// when none matches the clean gallery either (the tracker could not recognise the person even from clean
    /// photos); `weakened` when the nearest-person tracker names the person for any probe; else `holds`.
    static func verdict(_ probes: [Probe]) -> Verdict {
        if probes.count < 2 { return .inconclusive }
        if probes.contains(where: { $0.matchesCloaked > 0 }) { return .broken }
        if !probes.contains(where: { $0.matchesClean > 0 }) { return .inconclusive }
        return probes.contains(where: \.identifiedAmongOthers) ? .weakened : .holds
    }

    /// ``Result/holds``.
    static func protectionHolds(_ probes: [Probe]) -> Bool { verdict(probes) == .holds }

    public func run(store: ProvenanceStore, arguments: [String]) throws -> (result: Result, reportFolder: String) {
        let output = try runRecorded(store: store, arguments: arguments)
        return (output.result, output.reportFolder)
    }

    static let command = "verify faces"

    /// The models and the photo pairs found.
    struct Input {
        var started: Date
        var models: FaceModels
        var pairs: [(original: String, cloaked: String?)]
    }

    /// What the run returns: the result and where its report went.
    struct Output {
        var result: Result
        var reportFolder: String
    }

    func prepare() throws -> Input {
        let started = Date()
        let models = try FaceModels(directory: modelsDirectory, upsample: upsample)
        let found = pairFiles()
        guard found.contains(where: { $0.cloaked != nil }) else { throw FaceJobError.noPairs(originals: originals, cloaked: cloaked) }
        return Input(started: started, models: models, pairs: found)
    }

    func identity(of input: Input) throws -> JobIdentity {
        JobIdentity(parameters: try JSON.string([
            "originals": absolutePath(originals), "cloaked": absolutePath(cloaked), "others": others.map { absolutePath($0) } ?? "",
            "threshold": String(threshold), "upsample": String(upsample)]))
    }

    /// Every pair measured, the tracker test run with the cloaked and the clean gallery, recorded and reported.
    func work(_ input: Input, run: RecordedRun, store: ProvenanceStore) throws -> Output {
        try input.models.record(in: store, runID: run.id)
        let measured = try measurePairs(input.pairs, models: input.models, run: run)
        let otherIdentities = try loadOthers(models: input.models, run: run)
        let probes = TrackerTest(threshold: threshold, selfIdentity: Self.selfIdentity)
            .probes(measured.subjects, others: otherIdentities)
        let result = Result(runID: run.id, originals: absolutePath(originals), cloaked: absolutePath(cloaked),
                            threshold: threshold, pairs: measured.pairs, probes: probes,
                            others: otherIdentities.mapValues(\.count), holds: Self.protectionHolds(probes),
                            seconds: Date().timeIntervalSince(input.started))
        try record(result, store: store, runID: run.id)
        let folder = reportFolder ?? "reports/verify-faces-\(run.id)"
        try FaceVerificationReport.write(result, thumbnails: measured.thumbnails, to: folder)
        return Output(result: result, reportFolder: folder)
    }

    /// Originals (not `*.cloaked.*`) with their cloaked copies, in walk order.
    func pairFiles() -> [(original: String, cloaked: String?)] {
        let walker = FileWalker()
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: cloaked, isDirectory: &isFolder), !isFolder.boolValue {
            return [(originals, cloaked)]   // one photo and its copy
        }
        let cloakedRoot = cloaked.hasSuffix("/") ? String(cloaked.dropLast()) : cloaked
        let originalsRoot = originals.hasSuffix("/") ? String(originals.dropLast()) : originals
        var copies = Set(walker.walk([cloakedRoot]).files)
        return walker.walk([originals]).files.filter { !$0.lowercased().contains(".cloaked.") }.map { original in
            let stem = original == originals
                ? ((original as NSString).lastPathComponent as NSString).deletingPathExtension
                : FileRecords.relativeStem(of: original, under: originalsRoot)
            let extensions = ["png", "jpg", "jpeg", "PNG", "JPG", "JPEG"]
            let candidates = [".cloaked.", "."].flatMap { infix in extensions.map { cloakedRoot + "/" + stem + infix + $0 } }
            let match = candidates.first { copies.contains($0) && absolutePath($0) != absolutePath(original) }
            if let match { copies.remove(match) }
            return (original, match)
        }
    }

    func load(_ path: String, role: String, run: RecordedRun) throws -> RGBImage {
        let bytes = try ImageCodec.readBytes(path: path)
        let decoded = try ImageCodec.decode(bytes: bytes, path: path)
        try run.store.recordRunInput(runID: run.id, file: FileRecords.record(
            bytes: bytes, path: path, width: decoded.image.width, height: decoded.image.height,
            format: decoded.format.rawValue), role: role)
        return decoded.image
    }

    /// Other identities: a subfolder per person, or one photo per person; the largest face of each photo.
    private func loadOthers(models: FaceModels, run: RecordedRun) throws -> [String: [[Float]]] {
        guard let others else { return [:] }
        var identities: [String: [[Float]]] = [:]
        let root = others.hasSuffix("/") ? String(others.dropLast()) : others
        for path in FileWalker().walk([root]).files where !path.lowercased().contains(".cloaked.") {
            let relative = path == root ? (path as NSString).lastPathComponent
                : String(path.dropFirst(root.count).drop { $0 == "/" })
            let name = relative.contains("/") ? String(relative.split(separator: "/").first!)
                : (relative as NSString).deletingPathExtension
            guard let image = try? load(path, role: "other identity", run: run),
                  let face = models.finder.faces(in: image).max(by: { $0.detection.box.area < $1.detection.box.area }) else { continue }
            identities[name, default: []].append(models.descriptor(of: face, in: image))
        }
        return identities
    }

    /// Two rows in the verifications table: the tracker with the cloaked gallery and with the clean one.
    /// "Accuracy" is the fraction of clean probes the tracker matched to the person.
    private func record(_ r: Result, store: ProvenanceStore, runID: Int64) throws {
        guard !r.probes.isEmpty else { return }
        let originalsDigest = FileDigest.sha256(Array(r.pairs.map(\.original).joined(separator: "\n").utf8))
        let cloakedDigest = FileDigest.sha256(Array(r.pairs.compactMap(\.cloaked).joined(separator: "\n").utf8))
        let model = FaceEmbedder.fileName
        for baseline in [false, true] {
            let matched = Double(r.probes.filter { (baseline ? $0.matchesClean : $0.matchesCloaked) > 0 }.count)
                / Double(r.probes.count)
            let shifts = r.pairs.flatMap(\.faces).compactMap(\.shift)
            var facts = ["kind": "face tracker", "probes": "\(r.probes.count)", "threshold": "\(r.threshold)",
                         "minimumShift": shifts.min().map { String(format: "%.4f", $0) } ?? ""]
            if !r.others.isEmpty && !baseline {   // the nearest-person tracker, with the cloaked gallery enrolled
                facts["otherIdentities"] = "\(r.others.count)"
                facts["identifiedAmongOthers"] = "\(r.probes.filter(\.identifiedAmongOthers).count)"
            }
            let details = try JSON.string(facts)
            try store.recordVerification(VerificationRecord(
                runID: runID, trainDataset: baseline ? r.originals : r.cloaked,
                trainDatasetSHA256: baseline ? originalsDigest : cloakedDigest, testDataset: r.originals,
                testDatasetSHA256: originalsDigest, isBaseline: baseline, model: model, epochs: 0,
                countermeasure: "none", accuracies: try JSON.string([matched]), finalAccuracy: matched,
                bestAccuracy: matched, details: details))
        }
    }

    static func distance(_ a: [Float], _ b: [Float]) -> Double { Double(FaceCloaker.distance(a, b)) }
}
