import CloakDatasetProtection
import CloakStore
import CloakTensor
import Foundation
import Testing
@testable import CloakKit

@Suite("cloak unlearnable never writes over files it did not make")
struct UnlearnableOutputFolderTests {
    @Test func aFolderHoldingAnotherCopyOfTheDataIsRefusedAndLeftAlone() throws {
        let train = try makeTinyFolder(seed: 1)
        let backup = try temporaryFolder() + "/backup"
        try FileManager.default.copyItem(atPath: train, toPath: backup)
        let before = try Data(contentsOf: URL(fileURLWithPath: backup + "/class0/0.png"))
        var settings = UnlearnableSettings(mode: .class)
        settings.maxRounds = 2
        settings.stopError = 0.95   // what is written does not matter here
        settings.batchSize = 8
        let job = UnlearnableJob(trainFolder: train, outputFolder: backup, settings: settings, quiet: true)
        #expect(throws: UnlearnableError.self) { try job.run(store: try ProvenanceStore(), arguments: ["cloak"]) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup + "/class0/0.png")) == before)
        #expect(!FileManager.default.fileExists(atPath: backup + "/noise.npy"))
        // A new folder is fine, and so is running again into the folder that run made
        let out = try temporaryFolder() + "/cloaked"
        for _ in 0..<2 {
            _ = try UnlearnableJob(trainFolder: train, outputFolder: out, settings: settings, quiet: true)
                .run(store: try ProvenanceStore(), arguments: ["cloak"])
        }
    }
}
