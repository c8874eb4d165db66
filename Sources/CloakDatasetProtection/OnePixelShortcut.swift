import CloakImage
import CloakNN

/// The one-pixel shortcut (OPS; Wu et al., "One-Pixel Shortcut: on the Learning Preference of Deep Neural Networks",
/// ICLR 2023): per class, one pixel position and one colour, set in every image of the class. A network trained on
/// such data learns the pixel instead of the content. No model is trained; the budget is L0 = 1 pixel per image.
///
/// The search, per class in label order: over every position `p` and every colour `c` at a corner of the colour
/// cube (2 for grey images, 8 for colour: each channel 0 or 1), the distances `d = |c − x|` of the colour from the
/// class's own values at `p` (every image of the class, every channel) score `mean(d) / std(d)` (population
/// standard deviation): large when the colour is far from the class's pixels and equally far in all of them. The
/// best-scoring (position, colour) not chosen by an earlier class wins; a score with `std(d) = 0` is infinite when
/// `mean(d) > 0` (every image equally far: a perfect shortcut) and 0 otherwise; ties go to the lowest position
/// (row-major), then the lowest colour index.
///
/// Layout: `data.pixels` NHWC in [0, 1]; colour index `k` has channel `j` (of `C`) equal to bit `C − 1 − j` of `k`
/// (red is the high bit).
public enum OnePixelShortcut {
    /// The pixel of one class.
    public struct ClassPixel: Codable, Sendable, Equatable {
        public var row: Int
        public var column: Int
        /// The colour, one value per channel, each 0 or 1.
        public var colour: [Float]
        /// `mean(d) / std(d)` of the winning choice (`infinity` for a perfect one).
        public var score: Double
    }

    /// The pixel of every class `0..<classCount` (a class without images gets the lowest unused choice, score 0).
    public static func search(_ data: LabelledImages, classCount: Int) -> [ClassPixel] {
        let colours = 1 << data.channels
        var used = Set<Int>()   // position * colours + colour
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, label) in data.labels.enumerated() where label < classCount { byClass[label].append(i) }
        return (0..<classCount).map { label in
            let scores = scoreTable(data, images: byClass[label], colours: colours)
            var best = -1
            for choice in scores.indices where !used.contains(choice) && (best < 0 || scores[choice] > scores[best]) {
                best = choice
            }
            used.insert(best)
            let position = best / colours, colour = best % colours
            return ClassPixel(row: position / data.width, column: position % data.width,
                              colour: corner(colour, channels: data.channels), score: scores[best])
        }
    }

    /// Colour index `k` as channel values (red the high bit).
    public static func corner(_ k: Int, channels: Int) -> [Float] {
        (0..<channels).map { j in Float((k >> (channels - 1 - j)) & 1) }
    }

    /// The score of every (position, colour) for one class's images, indexed `position * colours + colour`.
    static func scoreTable(_ data: LabelledImages, images: [Int], colours: Int) -> [Double] {
        let channels = data.channels, positions = data.height * data.width, size = data.imageSize
        let count = Double(images.count * channels)
        var scores = [Double](repeating: 0, count: positions * colours)
        guard !images.isEmpty else { return scores }
        data.pixels.withUnsafeBufferPointer { x in
            for p in 0..<positions {
                for k in 0..<colours {
                    let colour = corner(k, channels: channels)
                    func distance(_ i: Int, _ c: Int) -> Double { Double(abs(colour[c] - x[i * size + p * channels + c])) }
                    var sum = 0.0
                    for i in images { for c in 0..<channels { sum += distance(i, c) } }
                    let mean = sum / count
                    var squares = 0.0   // two passes, so that equal distances give a variance of exactly 0
                    for i in images { for c in 0..<channels { squares += (distance(i, c) - mean) * (distance(i, c) - mean) } }
                    let variance = squares / count
                    scores[p * colours + k] = variance > 0 ? mean / variance.squareRoot() : (mean > 0 ? .infinity : 0)
                }
            }
        }
        return scores
    }

    /// `image` with the class's pixel set, its position scaled from the working size `workingWidth x workingHeight`
    /// it was found at to the image's own size. A one-channel colour is set in all three channels (the image stays grey).
    public static func apply(_ pixel: ClassPixel, to image: RGBImage, workingWidth: Int, workingHeight: Int) -> RGBImage {
        var out = image
        let row = min(image.height - 1, pixel.row * image.height / workingHeight)
        let column = min(image.width - 1, pixel.column * image.width / workingWidth)
        let p = row * image.width + column
        for c in 0..<3 { out.pixels[3 * p + c] = UInt8((pixel.colour[pixel.colour.count == 1 ? 0 : c] * 255).rounded()) }
        return out
    }
}
