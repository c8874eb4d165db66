/// An 8-bit RGB image in memory, with optional alpha.
///
/// Layout: row-major, top-left origin, channels interleaved: the red, green and blue samples of pixel
/// `(x, y)` are `pixels[3 * (y * width + x) + 0...2]`. `alpha`, when present, holds one sample per pixel
/// at `alpha[y * width + x]` (255 = opaque). Decoders hand out images with any EXIF orientation already
/// applied, so `(0, 0)` is the top-left corner as a viewer shows it.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels (>= 1).
    public var width: Int
    /// Height in pixels (>= 1).
    public var height: Int
    /// `width * height * 3` samples, RGB interleaved, row-major.
    public var pixels: [UInt8]
    /// `width * height` alpha samples, or `nil` for an opaque image.
    public var alpha: [UInt8]?

    /// Creates an image from interleaved RGB samples and optional alpha.
    ///
    /// - Precondition: `width >= 1`, `height >= 1`, `pixels.count == width * height * 3` and, when given,
    ///   `alpha.count == width * height`.
    public init(width: Int, height: Int, pixels: [UInt8], alpha: [UInt8]? = nil) {
        precondition(width >= 1 && height >= 1, "RGBImage needs positive dimensions, got \(width)x\(height)")
        precondition(pixels.count == width * height * 3,
                     "RGBImage \(width)x\(height) needs \(width * height * 3) samples, got \(pixels.count)")
        precondition(alpha == nil || alpha!.count == width * height,
                     "RGBImage alpha plane needs \(width * height) samples, got \(alpha!.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
        self.alpha = alpha
    }

    /// Creates an opaque image filled with one colour.
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0)) {
        precondition(width >= 1 && height >= 1, "RGBImage needs positive dimensions, got \(width)x\(height)")
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            p[3 * i] = fill.r; p[3 * i + 1] = fill.g; p[3 * i + 2] = fill.b
        }
        self.init(width: width, height: height, pixels: p)
    }

    /// Creates an opaque image from one 8-bit grey plane (`width * height` samples, row-major).
    public init(width: Int, height: Int, gray: [UInt8]) {
        precondition(gray.count == width * height,
                     "grey plane of \(width)x\(height) needs \(width * height) samples, got \(gray.count)")
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let v = gray[i]
            p[3 * i] = v; p[3 * i + 1] = v; p[3 * i + 2] = v
        }
        self.init(width: width, height: height, pixels: p)
    }

    /// Number of pixels, `width * height`.
    public var pixelCount: Int { width * height }

    /// True when every pixel has equal red, green and blue samples.
    public var isGrayscale: Bool {
        pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if p[i] != p[i + 1] || p[i] != p[i + 2] { return false }
                i += 3
            }
            return true
        }
    }

    /// True when an alpha plane is present and at least one pixel is not fully opaque.
    public var hasTransparency: Bool {
        guard let alpha else { return false }
        return alpha.contains { $0 != 255 }
    }
}
