import CloakSupport
import CZlib
import Foundation
import XCTest
@testable import CloakImage

/// A minimal PNG writer for tests, independent of libpng: any bit depth / colour type, PLTE, tRNS,
/// Adam7, filter type 0, zlib `compress`, CRC via zlib `crc32`.
enum RawPNG {
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return be32(UInt32(data.count)) + body + be32(crc)
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func channels(_ colorType: Int) -> Int { [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]! }

    static func ihdr(width: Int, height: Int, bitDepth: Int, colorType: Int, interlace: Bool) -> [UInt8] {
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [UInt8(bitDepth), UInt8(colorType), 0, 0, interlace ? 1 : 0])
    }

    static func zlib(_ raw: [UInt8]) -> [UInt8] {
        var size = compressBound(UInt(raw.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let rc = compress(&out, &size, raw, UInt(raw.count))
        precondition(rc == Z_OK)
        return Array(out.prefix(Int(size)))
    }

    /// `samples`: `channels(colorType)` values per pixel, row-major (palette: indices).
    static func make(width: Int, height: Int, bitDepth: Int, colorType: Int, samples: [UInt16],
                     interlace: Bool = false, palette: [(UInt8, UInt8, UInt8)]? = nil, trns: [UInt8]? = nil) -> [UInt8] {
        let ch = channels(colorType)
        precondition(samples.count == width * height * ch)
        let passes: [(Int, Int, Int, Int)] = interlace
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)]
        var raw: [UInt8] = []
        for (x0, y0, dx, dy) in passes {
            let xs = Array(stride(from: x0, to: width, by: dx)), ys = Array(stride(from: y0, to: height, by: dy))
            if xs.isEmpty || ys.isEmpty { continue }
            for y in ys {
                raw.append(0) // filter: none
                var acc = 0, nbits = 0
                for x in xs {
                    for c in 0..<ch {
                        let v = Int(samples[(y * width + x) * ch + c])
                        if bitDepth == 16 { raw += [UInt8(v >> 8), UInt8(v & 0xFF)]; continue }
                        if bitDepth == 8 { raw.append(UInt8(v)); continue }
                        acc = acc << bitDepth | v
                        nbits += bitDepth
                        if nbits == 8 { raw.append(UInt8(acc)); acc = 0; nbits = 0 }
                    }
                }
                if nbits > 0 { raw.append(UInt8(acc << (8 - nbits))) }
            }
        }
        var out = PNGChunks.signature + ihdr(width: width, height: height, bitDepth: bitDepth, colorType: colorType, interlace: interlace)
        if let palette { out += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if let trns { out += chunk("tRNS", trns) }
        out += chunk("IDAT", zlib(raw)) + chunk("IEND", [])
        return out
    }
}

/// A small TIFF (EXIF) builder: IFD0 with optional Exif and GPS sub-IFDs.
struct TIFFBuilder {
    struct E { var tag: UInt16; var type: UInt16; var count: UInt32; var value: [UInt8] }
    var bigEndian: Bool

    func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] {
        let b = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        return bigEndian ? b : b.reversed()
    }
    func ascii(_ tag: UInt16, _ s: String) -> E { E(tag: tag, type: 2, count: UInt32(s.utf8.count + 1), value: Array(s.utf8) + [0]) }
    func short(_ tag: UInt16, _ v: UInt16) -> E { E(tag: tag, type: 3, count: 1, value: u16(v)) }
    func rationals(_ tag: UInt16, _ v: [(UInt32, UInt32)]) -> E {
        E(tag: tag, type: 5, count: UInt32(v.count), value: v.flatMap { u32($0.0) + u32($0.1) })
    }

    /// Lays out IFD0, then the Exif IFD, then the GPS IFD; pointer tags are added automatically.
    func build(ifd0: [E], exif: [E] = [], gps: [E] = []) -> [UInt8] {
        var out: [UInt8] = (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(8)
        func ifdSize(_ es: [E]) -> Int { 2 + 12 * es.count + 4 + es.reduce(0) { $0 + ($1.value.count > 4 ? $1.value.count : 0) } }
        var ifd0 = ifd0
        let n0 = ifd0.count + (exif.isEmpty ? 0 : 1) + (gps.isEmpty ? 0 : 1)
        let size0 = 2 + 12 * n0 + 4 + ifd0.reduce(0) { $0 + ($1.value.count > 4 ? $1.value.count : 0) }
        let exifAt = 8 + size0, gpsAt = exifAt + (exif.isEmpty ? 0 : ifdSize(exif))
        if !exif.isEmpty { ifd0.append(E(tag: 0x8769, type: 4, count: 1, value: u32(UInt32(exifAt)))) }
        if !gps.isEmpty { ifd0.append(E(tag: 0x8825, type: 4, count: 1, value: u32(UInt32(gpsAt)))) }
        for es in [ifd0, exif, gps] where !es.isEmpty {
            let sorted = es.sorted { $0.tag < $1.tag }
            var data = out.count + 2 + 12 * sorted.count + 4
            var blobs: [UInt8] = []
            out += u16(UInt16(sorted.count))
            for e in sorted {
                out += u16(e.tag) + u16(e.type) + u32(e.count)
                if e.value.count <= 4 { out += e.value + [UInt8](repeating: 0, count: 4 - e.value.count) }
                else { out += u32(UInt32(data)); blobs += e.value; data += e.value.count }
            }
            out += u32(0) + blobs
        }
        return out
    }
}

/// Inserts an APP1 "Exif\0\0" segment right after SOI.
func insertingEXIF(_ tiff: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
    insertingSegment(0xE1, Array("Exif".utf8) + [0, 0] + tiff, into: jpeg)
}

func insertingSegment(_ marker: UInt8, _ payload: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
    let len = payload.count + 2
    return Array(jpeg[0..<2]) + [0xFF, marker, UInt8(len >> 8), UInt8(len & 0xFF)] + payload + Array(jpeg[2...])
}

/// Markers of all segments before SOS.
func jpegMarkers(_ b: [UInt8]) -> [UInt8] { JPEGMarkers.segments(b).map(\.marker) }

/// A natural-ish test image: smooth gradients plus deterministic texture.
func naturalImage(width: Int = 96, height: Int = 64) -> RGBImage {
    var px = [UInt8](repeating: 0, count: width * height * 3)
    var seed: UInt32 = 12345
    for y in 0..<height {
        for x in 0..<width {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            let noise = Double(seed >> 24) / 255 - 0.5
            let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
            let r = 128 + 90 * sin(fx * 3.1) + 6 * noise
            let g = 60 + 150 * fy + 10 * sin(Double(x + y) / 3) + 6 * noise
            let b = 200 - 120 * fx * fy + 20 * cos(Double(x) / 5) * sin(Double(y) / 7)
            let i = 3 * (y * width + x)
            px[i] = UInt8(max(0, min(255, r))); px[i + 1] = UInt8(max(0, min(255, g))); px[i + 2] = UInt8(max(0, min(255, b)))
        }
    }
    return RGBImage(width: width, height: height, pixels: px)
}

/// A fresh temporary directory, removed by the test's teardown block.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "cloakimage-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}

func writeBytes(_ b: [UInt8], _ path: String) throws {
    try Data(b).write(to: URL(fileURLWithPath: path))
}

/// Asserts that `body` throws an `ImageError` matching `check`, whose message names `path`.
func assertImageError<T>(_ body: @autoclosure () throws -> T, path: String, file: StaticString = #filePath,
                         line: UInt = #line, _ check: (ImageError) -> Bool) {
    do {
        _ = try body()
        XCTFail("expected an ImageError", file: file, line: line)
    } catch let e as ImageError {
        XCTAssertTrue(check(e), "wrong error: \(e)", file: file, line: line)
        let msg = e.errorDescription ?? ""
        XCTAssertTrue(msg.hasPrefix(path + ": "), "message does not name the path: \(msg)", file: file, line: line)
    } catch {
        XCTFail("not an ImageError: \(error)", file: file, line: line)
    }
}
