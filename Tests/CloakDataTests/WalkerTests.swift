import CloakSupport
import Foundation
import Testing
@testable import CloakData

private func touch(_ path: String) {
    precondition(FileManager.default.createFile(atPath: path, contents: Data([0x89, 0x50])), "cannot create \(path)")
}

@Suite("Walking folders and ImageFolder")
struct WalkerTests {
    @Test func walksInByteOrderAndSkipsNonImagesAndHiddenFiles() throws {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/b/sub", withIntermediateDirectories: true)
        for name in ["b/z.PNG", "b/a.jpg", "b/sub/m.jpeg", "b/notes.txt", "b/.hidden.png", "B.png", "a.png"] {
            touch(dir + "/" + name)
        }
        let result = FileWalker().walk([dir])
        #expect(result.files == ["B.png", "a.png", "b/a.jpg", "b/sub/m.jpeg", "b/z.PNG"].map { dir + "/" + $0 })
        #expect(result.problems.isEmpty)
    }

    @Test func symlinkLoopsAndOddEntriesAreReportedNotFollowedForever() throws {
        let dir = try temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/photos/inner", withIntermediateDirectories: true)
        touch(dir + "/photos/inner/ok.png")
        try fm.createSymbolicLink(atPath: dir + "/photos/inner/back", withDestinationPath: "..")        // cycle
        try fm.createSymbolicLink(atPath: dir + "/photos/self.jpg", withDestinationPath: "self.jpg")   // ELOOP
        try fm.createSymbolicLink(atPath: dir + "/photos/gone.png", withDestinationPath: "missing.png")
        try fm.createDirectory(atPath: dir + "/photos/folder.jpg", withIntermediateDirectories: true)
        #expect(mkfifo(dir + "/photos/pipe.png", 0o644) == 0)

        let result = FileWalker().walk([dir + "/photos"])
        #expect(result.files == [dir + "/photos/inner/ok.png"])
        let reasons = Dictionary(uniqueKeysWithValues: result.problems.map { ($0.path, $0.reason) })
        #expect(reasons[dir + "/photos/inner/back"]?.contains("loop") == true)
        #expect(reasons[dir + "/photos/self.jpg"] == "symbolic link loop")
        #expect(reasons[dir + "/photos/gone.png"] == "dangling symbolic link")
        #expect(reasons[dir + "/photos/folder.jpg"]?.contains("folder named like an image") == true)
        #expect(reasons[dir + "/photos/pipe.png"]?.contains("named pipe") == true)
        #expect(result.problems.allSatisfy { $0.message.hasPrefix($0.path + ": ") })
    }

    @Test func imageFolderSortsClassesAndLabelsByFolder() throws {
        let dir = try temporaryDirectory()
        for (cls, n) in [("cat", 2), ("Dog", 1), ("bird", 3), ("empty", 0)] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(cls)", withIntermediateDirectories: true)
            for i in 0..<n { touch("\(dir)/\(cls)/\(i).png") }
        }
        touch(dir + "/loose.png")   // files at the root are not a class
        let folder = try ImageFolder(root: dir)
        #expect(folder.classes == ["Dog", "bird", "cat"])
        #expect(folder.countsPerClass == [1, 3, 2])
        #expect(folder.samples.map(\.label) == [0, 1, 1, 1, 2, 2])
        #expect(folder.samples[1].path == dir + "/bird/0.png")
    }

    @Test func imageFolderLinksDoNotRelabelAnotherClassesImages() throws {
        let dir = try temporaryDirectory()
        let fm = FileManager.default
        for cls in ["cat", "dog"] {
            try fm.createDirectory(atPath: "\(dir)/\(cls)", withIntermediateDirectories: true)
            touch("\(dir)/\(cls)/0.png")
        }
        try fm.createSymbolicLink(atPath: dir + "/dog/root", withDestinationPath: "..")        // back to the root
        try fm.createSymbolicLink(atPath: dir + "/dog/cats", withDestinationPath: "../cat")    // into another class
        try fm.createSymbolicLink(atPath: dir + "/hound", withDestinationPath: "dog")           // a class twice
        let folder = try ImageFolder(root: dir)
        #expect(folder.classes == ["cat", "dog"])
        #expect(folder.samples.map(\.path) == [dir + "/cat/0.png", dir + "/dog/0.png"])
        let reasons = Dictionary(uniqueKeysWithValues: folder.problems.map { ($0.path, $0.reason) })
        #expect(reasons[dir + "/dog/root"]?.contains("walked on its own") == true)
        #expect(reasons[dir + "/dog/cats"] == "symbolic link to \(dir)/cat, which is walked on its own; skipped")
        #expect(reasons[dir + "/hound"]?.contains("the same folder as \(dir)/dog") == true)
        #expect(folder.problems.count == 3)
    }

    @Test func imageFolderKeepsOneOfTwoFilesThatDifferOnlyInTheExtension() throws {
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/cat/sub", withIntermediateDirectories: true)
        for name in ["0.png", "0.jpg", "0.PNG", "1.jpeg", "sub/0.png"] { touch("\(dir)/cat/\(name)") }
        let folder = try ImageFolder(root: dir)
        #expect(folder.samples.map(\.path) == ["0.PNG", "1.jpeg", "sub/0.png"].map { "\(dir)/cat/\($0)" })
        #expect(folder.problems.map(\.path) == ["0.jpg", "0.png"].map { "\(dir)/cat/\($0)" })
        #expect(folder.problems.allSatisfy { $0.reason.contains("same name as \(dir)/cat/0.PNG apart from the extension") })
    }

    @Test func imageFolderErrorsNameThePath() throws {
        let dir = try temporaryDirectory()
        #expect(throws: DatasetError.noClasses(path: dir)) { try ImageFolder(root: dir) }
        #expect(throws: DatasetError.missing(path: dir + "/nope")) { try ImageFolder(root: dir + "/nope") }
        touch(dir + "/file.png")
        #expect(throws: DatasetError.notAFolder(path: dir + "/file.png")) { try ImageFolder(root: dir + "/file.png") }
    }
}
