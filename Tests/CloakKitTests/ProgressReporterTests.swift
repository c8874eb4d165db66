import Testing
@testable import CloakKit

@Suite("Progress lines")
struct ProgressReporterTests {
    @Test func theETAWaitsForARateWorthTheName() {
        // The first image of 20,000 after 0.04 s: no rate, no ETA (it used to say 27 minutes)
        #expect(ProgressReporter.line(label: "write", count: 1, total: 20_000, unit: "images", elapsed: 0.04, final: false)
                == "write: 1/20,000 images")
        #expect(ProgressReporter.line(label: "write", count: 17_000, total: 20_000, unit: "images", elapsed: 10, final: false)
                == "write: 17,000/20,000 images, 1,700/s, ETA 1.8s")
        // Slow items keep a rate with two significant digits; the last line gives the time taken
        #expect(ProgressReporter.line(label: "faces", count: 1, total: 7, unit: "photos", elapsed: 3, final: false)
                == "faces: 1/7 photos, 0.33/s, ETA 18.0s")
        #expect(ProgressReporter.line(label: "load", count: 70, total: nil, unit: "files", elapsed: 65, final: true)
                == "load: 70 files, 1.1/s, 1m 05s")
    }
}
