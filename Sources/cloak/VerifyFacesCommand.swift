import ArgumentParser
import CloakKit
import Foundation

extension Cloak.Verify {
    struct Faces: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "faces",
            abstract: "Check face cloaks: embedding shift per photo and a tracker test with real dlib models.",
            discussion: """
                Pairs each photo under <originals> with its cloaked copy under <cloaked> (same relative path \
                with any image extension, or <name>.cloaked.<ext>; both may be the same folder), detects and \
                aligns faces on both independently, and reports each face's descriptor shift. Tracker test: \
                the cloaked photos are enrolled as the person's gallery and each clean photo not enrolled \
                probes it; a probe closer than dlib's 0.6 threshold to any enrolled face is a match. With \
                --others (one subfolder per person, or one photo per person) a second tracker names the \
                nearest enrolled person however far: when it names this person for any probe, the verdict is \
                weakened, not holds. Writes report.md, report.json and report.html (with original, cloaked and \
                amplified-difference pictures) to --report (default reports/verify-faces-<run>).
                """
        )

        @Argument(help: ArgumentHelp("The original photos (folder or file).", valueName: "originals"))
        var originals: String

        @Argument(help: ArgumentHelp("The cloaked copies (folder or file).", valueName: "cloaked"))
        var cloaked: String

        @Option(name: .long, help: ArgumentHelp("Photos of other people, for the nearest-person tracker.", valueName: "folder"))
        var others: String?

        @Option(name: .long, help: ArgumentHelp("Folder for report.json, report.md and report.html.", valueName: "folder"))
        var report: String?

        @OptionGroup var modelOptions: FaceModelOptions

        @Flag(name: .long, help: "Print the result as JSON instead of Markdown.")
        var json = false

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            var verification = FaceVerification(originals: originals, cloaked: cloaked, others: others, reportFolder: report,
                                                modelsDirectory: modelOptions.directory, quiet: quiet)
            verification.upsample = modelOptions.upsample
            let (result, folder) = try verification.run(store: storeOptions.open(), arguments: processArguments)
            print(json ? try FaceVerificationReport.json(result) : FaceVerificationReport.markdown(result), terminator: "")
            if !json { print("Report: \(folder)/report.html") }
        }
    }
}
