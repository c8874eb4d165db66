import CloakNN

/// The image filters of the verifier's countermeasures, on one image of `height x width x channels` floats (HWC) in
/// [0, 1] that came from 8-bit samples.
public enum ImageFilters {
    /// The bits ``Countermeasure/bitdepth`` keeps of each 8-bit sample.
    public static let bitDepth = 4

    /// `filter` applied to every image of `data`.
    static func eachImage(of data: LabelledImages,
                          _ filter: (_ image: [Float], _ height: Int, _ width: Int, _ channels: Int) -> [Float]) -> LabelledImages {
        var out = data
        let size = data.imageSize
        for i in 0..<data.count {
            let range = (i * size)..<((i + 1) * size)
            out.pixels.replaceSubrange(range, with: filter(Array(data.pixels[range]), data.height, data.width, data.channels))
        }
        return out
    }

    /// The median of each pixel's 3x3 neighbourhood, per channel; the border is replicated.
    public static func median3x3(_ image: [Float], height: Int, width: Int, channels: Int) -> [Float] {
        var out = image
        var window = [Float](repeating: 0, count: 9)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    var k = 0
                    for dy in -1...1 {
                        let yy = min(height - 1, max(0, y + dy))
                        for dx in -1...1 {
                            let xx = min(width - 1, max(0, x + dx))
                            window[k] = image[(yy * width + xx) * channels + c]
                            k += 1
                        }
                    }
                    window.sort()
                    out[(y * width + x) * channels + c] = window[4]
                }
            }
        }
        return out
    }

    /// Each sample's 8-bit value with only its top ``bitDepth`` bits kept (`v & 0xF0` for 4 bits).
    public static func reducedBitDepth(_ image: [Float], height: Int, width: Int, channels: Int) -> [Float] {
        let mask = (0xFF << (8 - bitDepth)) & 0xFF
        return image.map { v in Float(Int((min(1, max(0, v)) * 255).rounded()) & mask) / 255 }
    }
}
