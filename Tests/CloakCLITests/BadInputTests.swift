import CloakSupport
import CZlib
import CloakImage
import Foundation
import Testing

/// A PNG chunk with its CRC.
private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    let body = typeBytes + data
    let crc = UInt32(body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })
    return be32(UInt32(data.count)) + body + be32(crc)
}

private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

/// A PNG whose header declares `width x height` (8-bit RGB) and that has no image data.
private func pngHeaderOnly(width: UInt32, height: UInt32) -> [UInt8] {
    [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        + chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0]) + chunk("IEND", [])
}

/// A small natural-ish image: gradients and a pattern.
private func sampleImage(_ w: Int = 48, _ h: Int = 32) -> RGBImage {
    var p = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
        for x in 0..<w {
            p[3 * (y * w + x)] = UInt8(x * 255 / w)
            p[3 * (y * w + x) + 1] = UInt8(y * 255 / h)
            p[3 * (y * w + x) + 2] = UInt8(((x / 4 + y / 4) % 2) * 200)
        }
    }
    return RGBImage(width: w, height: h, pixels: p)
}

@Suite("Bad input in a batch")
struct BadInputTests {
    @Test func everyBadFileIsReportedRecordedAndTheBatchGoesOn() throws {
        let root = try makeWorkFolder()
        let dir = root + "/photos"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        func put(_ name: String, _ bytes: [UInt8]) { #expect(fm.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes))) }

        let png = try ImageCodec.encode(sampleImage(), as: .png)
        let jpeg = try ImageCodec.encode(sampleImage(), as: .jpeg)
        put("good.png", png)
        put("good.jpg", jpeg)
        put("empty.png", [])
        put("truncated.png", Array(png.prefix(png.count / 2)))
        put("truncated.jpg", Array(jpeg.prefix(jpeg.count / 2)))
        put("garbage.jpg", Array("Hello, this is not a JPEG at all.\n".utf8))
        var crc = png
        let idat = crc.indices.first { i in i + 4 <= crc.count && crc[i..<(i + 4)].elementsEqual("IDAT".utf8) }!
        crc[idat + 6] ^= 0x55   // a flipped byte in the compressed data, CRC left as it was
        put("crc.png", crc)
        put("zero.png", pngHeaderOnly(width: 0, height: 0))
        put("huge.png", pngHeaderOnly(width: 100_000, height: 100_000))
        try fm.createDirectory(atPath: dir + "/folder.jpg", withIntermediateDirectories: true)
        put("unreadable.png", png)
        chmod("\(dir)/unreadable.png", 0)
        try fm.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: ".")
        try fm.createSymbolicLink(atPath: dir + "/self.jpg", withDestinationPath: "self.jpg")

        // Root reads any file whatever its mode, so run the CLI as an ordinary user then.
        let uid: Int? = geteuid() == 0 ? 65534 : nil
        let result = try CLI.run(["inspect", "photos", "--json"], in: root, asUser: uid)
        #expect(result.status == 1, "some files failed, so the exit status is 1; stderr: \(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let entries = (summary["entries"] as! [[String: Any]]).map { ($0["path"] as! String as NSString).lastPathComponent }
        #expect(entries == ["good.jpg", "good.png"])
        let failures = summary["failures"] as! [[String: Any]]
        var reasons: [String: String] = [:]
        for f in failures { reasons[((f["path"] as! String) as NSString).lastPathComponent] = f["reason"] as? String }

        let expected: [String: String] = [
            "empty.png": "empty",
            "truncated.png": "truncated",
            "truncated.jpg": "truncated",
            "garbage.jpg": "not a PNG or JPEG",
            "crc.png": "CRC",
            "zero.png": "zero",
            "huge.png": "exceeds the limit",
            "folder.jpg": "folder named like an image",
            "unreadable.png": "permission denied",
            "loop": "loop",
            "self.jpg": "loop",
        ]
        for (name, fragment) in expected {
            let reason = reasons[name]
            #expect(reason != nil, "no failure reported for \(name); got \(reasons)")
            #expect(reason?.lowercased().contains(fragment.lowercased()) == true, "\(name): \(reason ?? "-")")
            #expect(reason?.hasPrefix("photos/" + name + ": ") == true, "the message names the path as given: \(reason ?? "-")")
        }
        #expect(reasons.count == expected.count, "unexpected failures: \(reasons.keys.sorted())")
        // Each was also printed on standard error with its path
        for name in expected.keys { #expect(result.stderr.contains("error: photos/\(name): ")) }

        // The store recorded the run with its failures
        let history = try CLI.run(["history", "--json"], in: root, asUser: uid)
        let runs = try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as! [[String: Any]]
        #expect(runs.first?["filesOK"] as? Int == 2)
        #expect(runs.first?["filesFailed"] as? Int == expected.count)
        #expect(runs.first?["status"] as? String == "done")
        // The originals were not touched
        #expect(fm.contents(atPath: dir + "/truncated.png").map([UInt8].init) == Array(png.prefix(png.count / 2)))
    }

    @Test func storeThatIsNotSQLiteGivesAClearErrorAndStaysUntouched() throws {
        let dir = try makeWorkFolder()
        let notes = Data("my shopping list\n".utf8)
        #expect(FileManager.default.createFile(atPath: dir + "/notes.txt", contents: notes))
        let result = try CLI.run(["history", "--store", "notes.txt"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains(dir + "/notes.txt: not a Cloak store"))
        #expect(FileManager.default.contents(atPath: dir + "/notes.txt") == notes)
        // CLOAK_STORE is honoured the same way
        let env = try CLI.run(["history"], in: dir, environment: ["CLOAK_STORE": dir + "/notes.txt"])
        #expect(env.stderr.contains("not a Cloak store"))
    }

    @Test func readingCommandsDoNotCreateAMissingStore() throws {
        let dir = try makeWorkFolder()
        for arguments in [["history"], ["show", "0" + String(repeating: "a", count: 63)]] {
            let result = try CLI.run(arguments + ["--store", "typo/cloak.sqlite"], in: dir)
            #expect(result.status != 0)
            #expect(result.stderr.contains(dir + "/typo/cloak.sqlite: no provenance store here"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/typo"))
        }
    }

    @Test func gpsIsReportedOnInputs() throws {
        // inspect tells the user which photos carry a location; the codec tests cover that outputs never do
        let dir = try makeWorkFolder()
        let clean = try ImageCodec.encode(sampleImage(), as: .jpeg)
        #expect(FileManager.default.createFile(atPath: dir + "/clean.jpg", contents: Data(clean)))
        let result = try CLI.run(["inspect", "clean.jpg"], in: dir)
        #expect(result.status == 0)
        #expect(result.stdout.contains("1 image(s) read, 0 failed"))
        #expect(!result.stdout.contains("GPS"))
    }
}
