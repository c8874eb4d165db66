import CloakFace

/// The tracker test of `cloak verify faces`, on descriptors: each person's photo probes a gallery of the *other*
/// photos' cloaked copies (and, for contrast, of their clean originals); a probe matches a gallery face closer than
/// the threshold. With other people enrolled, a second tracker names the identity nearest to the probe however far
/// (closed-set identification, the threat model of Fawkes' paper).
struct TrackerTest {
    /// dlib's same-person threshold, 0.6.
    var threshold: Double
    /// The name the nearest-person tracker gives the person's own cloaked gallery.
    var selfIdentity: String

    /// One photo of the person: its largest face's descriptor on the clean photo and on the cloaked copy (`nil` when
    /// no face was found there).
    struct Subject {
        var photo: String
        var clean: [Float]
        var cloaked: [Float]?
    }

    /// Every subject as a probe, against the galleries of the others; `others` maps each other identity to its
    /// descriptors.
    func probes(_ subjects: [Subject], others: [String: [[Float]]]) -> [FaceVerification.Probe] {
        subjects.indices.map { i in
            let subject = subjects[i]
            let rest = subjects.indices.filter { $0 != i }
            let dc = rest.compactMap { subjects[$0].cloaked }.map { FaceVerification.distance(subject.clean, $0) }
            let dn = rest.map { FaceVerification.distance(subject.clean, subjects[$0].clean) }
            var probe = FaceVerification.Probe(
                photo: subject.photo, nearestCloaked: dc.min(), matchesCloaked: dc.filter { $0 < threshold }.count,
                nearestClean: dn.min(), matchesClean: dn.filter { $0 < threshold }.count, gallerySize: dc.count)
            if !others.isEmpty { name(&probe, subject: subject, ownNearest: dc.min(), others: others) }
            return probe
        }
    }

    /// What the nearest-person tracker answers for the probe: the nearest other identity, or the person's own cloaked
    /// gallery when that is at least as near.
    private func name(_ probe: inout FaceVerification.Probe, subject: Subject, ownNearest: Double?,
                      others: [String: [[Float]]]) {
        var other: (String, Double)?
        for (name, descriptors) in others.sorted(by: { $0.key < $1.key }) {
            if let d = descriptors.map({ FaceVerification.distance(subject.clean, $0) }).min(), d < other?.1 ?? .infinity {
                other = (name, d)
            }
        }
        probe.nearestOther = other?.0
        probe.nearestOtherDistance = other?.1
        var nearest = other
        if let own = ownNearest, own <= other?.1 ?? .infinity { nearest = (selfIdentity, own) }
        probe.nearestIdentity = nearest?.0
        probe.nearestIdentityDistance = nearest?.1
    }
}
