import CloakSupport
import Foundation

/// Text summaries of a ``FaceJob``.
public enum FaceJobReport {
    /// A Markdown summary: one row per face of every cloaked photo, then the photos with another outcome.
    public static func markdown(_ s: FaceJob.Summary) -> String {
        var out = "Cloaked \(s.count(.cloaked)) photo(s) in \(ProgressReporter.duration(s.seconds)), mode \(s.mode.rawValue)"
            + (s.targeted ? ", targeted" : "") + " (run \(s.runID)\(s.resumed ? ", resumed" : ""))."
        let counts = [(FaceJob.Outcome.noFace, "with no face"), (.alreadyCloaked, "already cloaked"),
                      (.skipped, "skipped"), (.failed, "failed")]
            .compactMap { s.count($0.0) > 0 ? "\(s.count($0.0)) \($0.1)" : nil }
        if !counts.isEmpty { out += " " + counts.joined(separator: ", ") + "." }
        out += "\n"
        let cloaked = s.photos.filter { $0.outcome == .cloaked }
        if !cloaked.isEmpty {
            out += """

                Embedding shift = distance between the face's dlib descriptors before and after (dlib's same-person \
                threshold is 0.6; two photos of one person are typically 0.2-0.45 apart), measured on the written \
                file with the face re-detected, and again after JPEG re-encoding at quality 85 and 75. Face DSSIM (RGB), \
                PSNR and L-inf measure the cloak over the perturbed face region; photo PSNR and SSIM measure the \
                written file against the original (for JPEG outputs they include the encoder's own error).

                | photo | face | shift | after q85 | after q75 |\(s.targeted ? " to target |" : "") face DSSIM | face PSNR | L-inf | photo PSNR | photo SSIM | time |
                |---|---|---|---|---|\(s.targeted ? "---|" : "")---|---|---|---|---|---|

                """
            for p in cloaked {
                for (i, f) in p.faces.enumerated() {
                    out += "| \((p.input as NSString).lastPathComponent) | \(i) | \(f3(f.shift))"
                        + (f.redetected ? "" : " (not re-detected)")
                        + " | \(f.shiftAfterJPEG85.map(f3) ?? "-") | \(f.shiftAfterJPEG75.map(f3) ?? "-")"
                        + (s.targeted ? " | \(f.targetDistance.map(f3) ?? "-")" : "")
                        + " | \(String(format: "%.4f", f.dssim)) | \(db(f.psnr)) | \(f.linf) | \(db(p.psnr))"
                        + " | \(p.ssim.map { String(format: "%.4f", $0) } ?? "-") | \(String(format: "%.1fs", f.seconds)) |\n"
                }
            }
            let shifts = cloaked.flatMap(\.faces).map(\.shift)
            let weak = shifts.filter { $0 < 0.6 }.count
            out += "\nFaces: \(shifts.count); shift \(f3(shifts.min()!))-\(f3(shifts.max()!))"
            out += weak == 0 ? "; every face moved past dlib's 0.6 threshold.\n"
                : "; \(weak) face(s) moved less than 0.6: a recogniser may still tie them to the person (try --mode high).\n"
        }
        let others = s.photos.filter { $0.outcome != .cloaked }
        if !others.isEmpty {
            out += "\n| photo | outcome | why |\n|---|---|---|\n"
            for p in others {
                out += "| \(p.input) | \(p.outcome.rawValue) | \(p.message ?? "") |\n"
            }
        }
        return out
    }

    /// `"1 face, shift 0.81 (q85 0.80, q75 0.79), PSNR 48.9 dB, 3.1s"`.
    static func photoLine(_ p: FaceJob.PhotoResult) -> String {
        let shifts = p.faces.map { f -> String in
            var s = f3(f.shift)
            if let a = f.shiftAfterJPEG85, let b = f.shiftAfterJPEG75 { s += " (q85 \(f3(a)), q75 \(f3(b)))" }
            return s
        }
        return "\(p.faces.count) face\(p.faces.count == 1 ? "" : "s"), shift \(shifts.joined(separator: "; ")), "
            + "PSNR \(db(p.psnr)), \(String(format: "%.1fs", p.seconds))" + (p.output.map { " -> \($0)" } ?? "")
    }

    static func f3(_ v: Double) -> String { String(format: "%.3f", v) }
    static func db(_ v: Double?) -> String { v.map { String(format: "%.1f dB", $0) } ?? "identical" }
}

extension FaceJobReport {
    /// The summary as pretty-printed JSON.
    public static func json(_ s: FaceJob.Summary) throws -> String { try JSON.pretty(s) + "\n" }
}
