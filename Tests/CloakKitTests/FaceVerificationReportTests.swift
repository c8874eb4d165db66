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
}
