/// Where a noise pattern's free values sit in its `height x width x channels` (HWC) image-resolution layout: one
/// per pixel, or one per position of a `tile x tile` tile repeated across the image (cut off at the right and
/// bottom edges when the tile does not divide the size).
struct PatternParameters {
    /// Free values per pattern.
    let count: Int
    /// For each HWC pixel index, the free value it shows.
    let parameter: [Int]
    /// For each free value, the first HWC pixel index showing it.
    let firstPixel: [Int]

    init(height: Int, width: Int, channels: Int, tile: Int?) {
        guard let tile else {
            count = height * width * channels
            parameter = Array(0..<count)
            firstPixel = parameter
            return
        }
        let th = min(tile, height), tw = min(tile, width)
        count = th * tw * channels
        parameter = (0..<(height * width * channels)).map { j in
            let c = j % channels, p = j / channels
            return (((p / width) % th) * tw + (p % width) % tw) * channels + c
        }
        firstPixel = (0..<count).map { k in
            let c = k % channels, p = k / channels
            return ((p / tw) * width + p % tw) * channels + c
        }
    }
}
