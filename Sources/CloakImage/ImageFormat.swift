/// The two file formats Cloak reads and writes.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case png
    case jpeg

    /// "PNG" or "JPEG", for messages.
    public var displayName: String { self == .png ? "PNG" : "JPEG" }

    /// The usual file extension without a dot: "png" or "jpg".
    public var fileExtension: String { self == .png ? "png" : "jpg" }

    /// The format an output path asks for, from its extension: `png`, `jpg`, `jpeg` (any case).
    /// `nil` for anything else. Only for choosing an output format; inputs are recognised by content.
    public init?(pathExtension pathOrExtension: String) {
        let ext: Substring
        if let dot = pathOrExtension.lastIndex(of: ".") {
            ext = pathOrExtension[pathOrExtension.index(after: dot)...]
        } else {
            ext = Substring(pathOrExtension)
        }
        switch ext.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// The format the bytes are in, from their signature (PNG: `89 50 4E 47 0D 0A 1A 0A`; JPEG: `FF D8 FF`),
    /// or `nil`. Never looks at a file name.
    public init?(magic bytes: some Collection<UInt8>) {
        let head = Array(bytes.prefix(8))
        if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
            self = .png
        } else if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF {
            self = .jpeg
        } else {
            return nil
        }
    }
}

/// Size of an image as stored in the file, before any EXIF orientation is applied.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    /// Stored width in pixels.
    public var width: Int
    /// Stored height in pixels.
    public var height: Int

    public init(format: ImageFormat, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }
}
