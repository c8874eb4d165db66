/// The input tensor of dlib's face descriptor network (`input_rgb_image_sized<150>`) from a chip, and the
/// way back for gradients.
///
/// ```
/// input[c][y][x] = (chip(x, y).channel(c) - mean[c]) / 256      c = 0 red, 1 green, 2 blue
/// ```
/// Layout: planar CHW, `input[(c * height + y) * width + x]`, one sample.
public enum DescriptorInput {
    /// The network input for a float chip (HWC, 0...255 units).
    public static func tensor(from chip: FloatRGBImage, mean: RGBMean) -> [Float] {
        let plane = chip.width * chip.height
        var out = [Float](repeating: 0, count: 3 * plane)
        let means = [mean.red, mean.green, mean.blue]
        for i in 0..<plane {
            for c in 0..<3 { out[c * plane + i] = (chip.values[3 * i + c] - means[c]) / 256 }
        }
        return out
    }

    /// The chip gradient (HWC) of a gradient with respect to the network input (CHW): the transpose of
    /// ``tensor(from:mean:)``'s linear part, i.e. division by 256 and re-interleaving.
    public static func chipGradient(fromInputGradient grad: [Float], width: Int, height: Int) -> FloatRGBImage {
        let plane = width * height
        precondition(grad.count == 3 * plane, "input gradient must be 3x\(height)x\(width), got \(grad.count) values")
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { out[3 * i + c] = grad[c * plane + i] / 256 }
        }
        return FloatRGBImage(width: width, height: height, values: out)
    }
}
