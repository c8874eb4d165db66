import ArgumentParser
import CloakKit
import Foundation

extension CloakMode: ExpressibleByArgument {}
extension PhotoOutputFormat: ExpressibleByArgument {}

extension Cloak {
    struct Faces: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cloak the faces in photos against face recognition (dlib's ResNet descriptor).",
            discussion: """
                Finds every face (dlib's HOG detector on the photo doubled once, as the common dlib tracker \
                face_recognition does: faces from about 40 pixels; --upsample 0 does a quarter of the \
                detection work and finds them from about 80 pixels), and \
                perturbs the photo's own pixels around each face so its face descriptor moves away from the \
                person's (or, with --target, toward another identity), within an RGB structural-similarity \
                budget and a hard per-pixel cap. Modes: low (25 steps), mid (50, default), high (100 steps, \
                larger budget). Each output is measured as a tracker would read it: faces re-detected on the \
                written file, and again after JPEG re-encoding at quality 85 and 75.

                Output: <name>.cloaked.<ext> beside each photo, or a mirrored tree under --out. Originals are \
                never modified; photos named *.cloaked.* are skipped; a photo already cloaked with the same \
                settings (the store remembers) is skipped unless --force. EXIF orientation is applied; GPS and \
                other metadata are not carried over unless --keep-metadata (GPS never is). A photo with no face \
                is reported and not written.
                """
        )

        @Argument(help: ArgumentHelp("Photos or folders (searched recursively for JPEG and PNG).", valueName: "paths"))
        var paths: [String]

        @Option(name: .long, help: "Strength: low, mid or high.")
        var mode: CloakMode = .standard

        @Option(name: .long, help: ArgumentHelp("Mirrored output tree (default: <name>.cloaked.<ext> beside each photo).", valueName: "folder"))
        var out: String?

        @Option(name: .long, help: "Output format: keep (the input's), png or jpg.")
        var format: PhotoOutputFormat = .keep

        @Option(name: .long, help: ArgumentHelp("Quality of JPEG outputs, 1-100.", valueName: "q"))
        var jpegQuality = 95

        @Flag(name: .long, help: "Carry EXIF (without GPS, maker notes and thumbnail), XMP and comments over.")
        var keepMetadata = false

        @Option(name: .long, help: ArgumentHelp("Folder of another person's photos: cloak toward that identity.", valueName: "folder"))
        var target: String?

        @Flag(name: .long, help: "Cloak again photos the store shows as already cloaked with these settings.")
        var force = false

        @Flag(name: .long, help: "Skip measuring the shift after JPEG re-encoding at quality 85 and 75 (faster).")
        var noRecompressionCheck = false

        @Option(name: .long, help: "Random seed.")
        var seed: UInt64 = 0

        @OptionGroup var modelOptions: FaceModelOptions

        @Flag(name: .long, help: "Print the result as JSON instead of Markdown.")
        var json = false

        @Flag(name: .long, help: "No progress on standard error.")
        var quiet = false

        @OptionGroup var storeOptions: StoreOptions

        func settings() -> FaceJobSettings {
            var s = FaceJobSettings()
            s.mode = mode
            s.seed = seed
            s.format = format
            s.jpegQuality = jpegQuality
            s.keepMetadata = keepMetadata
            s.targetFolder = target
            s.outputFolder = out
            s.force = force
            s.checkRecompression = !noRecompressionCheck
            s.modelsDirectory = modelOptions.directory
            s.upsample = modelOptions.upsample
            return s
        }

        func validate() throws {
            do { try settings().validate() } catch { throw ValidationError(FlagNames.message(of: error)) }
        }

        func run() throws {
            let summary = try FaceJob(paths: paths, settings: settings(), quiet: quiet)
                .run(store: storeOptions.open(), arguments: processArguments)
            print(json ? try FaceJobReport.json(summary) : FlagNames.reworded(FaceJobReport.markdown(summary)), terminator: "")
            if summary.count(.failed) > 0 { throw ExitCode(1) }
        }
    }
}
