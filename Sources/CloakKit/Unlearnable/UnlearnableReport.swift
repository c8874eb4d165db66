import CloakDatasetProtection
import Foundation

/// Text summary of an unlearnable-noise job.
public enum UnlearnableReport {
    public static func text(_ s: UnlearnableJob.Summary) -> String {
        if s.alreadyDone == true {
            return "Already done: \(s.outputFolder) holds this job's \(ProgressReporter.grouped(s.written)) cloaked images "
                + String(format: "(run %lld, surrogate error %.4f after ", s.runID, s.finalError) + rounds(s.rounds) + "); nothing to do."
        }
        if s.settings.method == .ops { return onePixelText(s) }
        var out = "\(s.settings.mode.rawValue.capitalized)-wise unlearnable noise (eps \(fmt(s.settings.epsilon))/255, "
        out += "surrogate \(s.settings.model.rawValue), \(s.width)x\(s.height)x\(s.channels)): "
        out += String(format: "surrogate error %.4f after ", s.finalError) + rounds(s.rounds)
        out += " in \(ProgressReporter.duration(s.generationSeconds))"
        out += s.resumed ? " (resumed)" : ""
        out += ".\n"
        out += "Wrote \(ProgressReporter.grouped(s.written)) cloaked images to \(s.outputFolder) "
        out += measured(maxLinf: s.maxLinf, meanPSNR: s.meanPSNR, meanSSIM: s.meanSSIM, failures: s.failures)
        if s.settings.targetedPoison {
            out += ".\nTargeted poison: every image was also pushed toward the next class's features (a model trained "
                + "\(TargetedAdversarialPoison.craftingEpochs) epochs on the clean images, \(TargetedAdversarialPoison.steps) PGD steps), "
                + "the sum clipped to epsilon: one noise pattern per image"
        }
        out += ".\nNoise: \(s.outputFolder)/noise.npy (see noise.json). Run \(s.runID), "
        out += "\(ProgressReporter.duration(s.seconds)) in all."
        return out
    }

    /// The summary of a one-pixel shortcut: no rounds, no budget but one pixel per image.
    static func onePixelText(_ s: UnlearnableJob.Summary) -> String {
        "One-pixel shortcut (Wu et al., ICLR 2023; class-wise, found at \(s.width)x\(s.height)x\(s.channels)) in "
            + "\(ProgressReporter.duration(s.generationSeconds))\(s.resumed ? " (resumed)" : "").\n"
            + "Wrote \(ProgressReporter.grouped(s.written)) cloaked images to \(s.outputFolder) with one pixel changed in each "
            + String(format: "(mean PSNR %.1f dB, mean SSIM %.4f)", s.meanPSNR, s.meanSSIM)
            + (s.failures > 0 ? "; \(s.failures) file(s) failed (see cloak history / cloak show)" : "")
            + ".\nPixels: \(s.outputFolder)/noise.json. Run \(s.runID), \(ProgressReporter.duration(s.seconds)) in all."
    }

    public static func text(_ s: NoiseApplicationJob.Summary) -> String {
        var out = "Applied the class-wise noise of \(s.noiseFolder) (eps \(fmt(s.epsilon))/255, \(s.width)x\(s.height)x\(s.channels)) "
        out += "to \(ProgressReporter.grouped(s.written)) images in \(s.outputFolder) "
        out += measured(maxLinf: s.maxLinf, meanPSNR: s.meanPSNR, meanSSIM: s.meanSSIM, failures: s.failures)
        out += ".\nNoise: \(s.outputFolder)/noise.npy (a copy). Run \(s.runID), \(ProgressReporter.duration(s.seconds)) in all."
        return out
    }

    /// "(L-inf <= 8/255, mean PSNR 34.7 dB, mean SSIM 0.9495)", and the failed files' count.
    static func measured(maxLinf: Int, meanPSNR: Double, meanSSIM: Double, failures: Int) -> String {
        String(format: "(L-inf <= %d/255, mean PSNR %.1f dB, mean SSIM %.4f)", maxLinf, meanPSNR, meanSSIM)
            + (failures > 0 ? "; \(failures) file(s) failed (see cloak history / cloak show)" : "")
    }

    /// "1 round", "14 rounds".
    static func rounds(_ n: Int) -> String { n == 1 ? "1 round" : "\(n) rounds" }

    static func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
