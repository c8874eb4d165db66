import Foundation
import Testing
@testable import CloakKit

@Suite("cloak verify faces: the verdict")
struct FaceVerificationReportTests {
    func result(_ matches: [(cloaked: Int, clean: Int)]) -> FaceVerification.Result {
        let probes = matches.enumerated().map { i, m in
            FaceVerification.Probe(photo: "p\(i).jpg", nearestCloaked: m.cloaked > 0 ? 0.5 : 0.8, matchesCloaked: m.cloaked,
                                   nearestClean: m.clean > 0 ? 0.3 : 0.7, matchesClean: m.clean, gallerySize: matches.count - 1)
        }
        return FaceVerification.Result(runID: 1, originals: "o", cloaked: "c", threshold: 0.6, pairs: [], probes: probes,
                                       others: [:], holds: FaceVerification.protectionHolds(probes), seconds: 1)
    }

    @Test func noMatchIsProtectionOnlyWhenTheCleanPhotosWouldHaveMatched() {
        let holds = FaceVerificationReport.conclusion(result([(0, 2), (0, 2), (0, 1)]))
        #expect(holds.hasPrefix("**Protection holds**") && holds.contains("would have matched 3 of 3"))
        let broken = FaceVerificationReport.conclusion(result([(1, 2), (0, 2), (0, 2)]))
        #expect(broken.hasPrefix("**Protection BROKEN**") && broken.contains("matched 1 of the 3 clean photos"))
        // Three photos a tracker cannot tie together even clean: no match with the cloaked gallery means nothing
        let unrelated = result([(0, 0), (0, 0), (0, 0)])
        #expect(!unrelated.holds)
        let inconclusive = FaceVerificationReport.conclusion(unrelated)
        #expect(inconclusive.hasPrefix("**Inconclusive**") && inconclusive.contains("matched none either"))
        #expect(FaceVerificationReport.html(unrelated, thumbnails: []).contains("<p class=\"verdict inconclusive\">"))
    }

    /// Probes with no threshold match, each with its nearest cloaked photo at 0.8 and another person at `others[i]`.
    func resultWithOthers(_ others: [Double]) -> FaceVerification.Result {
        var r = result(others.map { _ in (0, 2) })
        for i in r.probes.indices {
            r.probes[i].nearestOther = "b"
            r.probes[i].nearestOtherDistance = others[i]
            let own = r.probes[i].nearestCloaked!
            r.probes[i].nearestIdentity = own <= others[i] ? FaceVerification.selfIdentity : "b"
            r.probes[i].nearestIdentityDistance = min(own, others[i])
        }
        r.others = ["b": 1]
        r.holds = FaceVerification.protectionHolds(r.probes)
        return r
    }

    @Test func aTrackerNamingTheNearestPersonMustNameSomeoneElse() {
        // Past the threshold, yet nearer the cloaked photos than the other person for 2 of 3: weakened, not holds
        let weakened = resultWithOthers([0.7, 0.9, 0.85])
        #expect(!weakened.holds)
        let text = FaceVerificationReport.conclusion(weakened)
        #expect(text.hasPrefix("**Protection weakened**") && text.contains("named this person for 2 of 3")
                && text.contains("the 1 other person was farther away") && text.contains("--mode high"))
        #expect(FaceVerificationReport.html(weakened, thumbnails: []).contains("<p class=\"verdict weakened\">"))
        #expect(FaceVerificationReport.markdown(weakened).contains("| b (0.900) | this person (cloaked gallery) (0.800) |"))
        // The other person nearer for every probe: holds, and says the nearest-person tracker was tried
        let holds = resultWithOthers([0.7, 0.75, 0.6])
        #expect(holds.holds)
        #expect(FaceVerificationReport.conclusion(holds).contains("named someone else every time"))
        // Without other people, the verdict says that tracker was not tested
        #expect(FaceVerificationReport.conclusion(result([(0, 2), (0, 2)])).contains("was not tested (it needs --others)"))
    }
}
