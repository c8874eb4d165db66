import CloakDatasetProtection
import CloakImage
import CloakNN
import CloakTensor
import Testing

@Suite("The one-pixel shortcut's search")
struct OnePixelShortcutTests {
    /// The synthetic set Fixtures/ops_reference.py builds from the same formula: 24 colour images of 6x5, 3 classes.
    func synthetic() -> LabelledImages {
        let (n, h, w, c, k) = (24, 6, 5, 3, 3)
        var pixels = [Float]()
        for i in 0..<n {
            for p in 0..<(h * w) {
                for ch in 0..<c { pixels.append(Float((i * 37 + p * 11 + ch * 5 + (i % k) * p * 3) % 256) / 255) }
            }
        }
        return LabelledImages(pixels: pixels, labels: (0..<n).map { $0 % k }, height: h, width: w, channels: c)
    }

    /// The same choices as the NumPy reference (Fixtures/ops_reference.py printed `[[2, 2, 0], [4, 3, 7], [3, 2, 7]]`:
    /// row, column, colour index per class).
    @Test func theSearchMatchesTheNumPyReference() {
        let pixels = OnePixelShortcut.search(synthetic(), classCount: 3)
        #expect(pixels.map { [$0.row, $0.column] } == [[2, 2], [4, 3], [3, 2]])
        #expect(pixels.map(\.colour) == [[0, 0, 0], [1, 1, 1], [1, 1, 1]])
        #expect(OnePixelShortcut.corner(6, channels: 3) == [1, 1, 0], "red is the high bit")
    }

    /// A pixel black in every image of a class and nowhere else is the perfect shortcut: white there is equally far
    /// from all of them (infinite score); a later class cannot take the same position and colour.
    @Test func aConstantPixelIsAPerfectShortcutAndChoicesAreNotShared() {
        var pixels = [Float](repeating: 0.5, count: 8 * 9)
        for i in 0..<8 {
            for p in 0..<9 { pixels[i * 9 + p] = Float((i * 3 + p * 5) % 7) / 7 + 0.05 }
            if i % 2 == 0 { pixels[i * 9 + 4] = 0 }   // class 0: the centre is black in every image
        }
        let data = LabelledImages(pixels: pixels, labels: (0..<8).map { $0 % 2 }, height: 3, width: 3, channels: 1)
        let chosen = OnePixelShortcut.search(data, classCount: 2)
        #expect(chosen[0].row == 1 && chosen[0].column == 1 && chosen[0].colour == [1] && chosen[0].score == .infinity)
        #expect(chosen[1] != chosen[0])
        // Applying it sets that one pixel, scaled to an image of another size
        let grey = RGBImage(width: 6, height: 6, gray: [UInt8](repeating: 50, count: 36))
        let marked = OnePixelShortcut.apply(chosen[0], to: grey, workingWidth: 3, workingHeight: 3)
        #expect(ImageMetrics.changedPixels(grey, marked) == 1 && marked.isGrayscale)
        #expect(Array(marked.pixels[(3 * (2 * 6 + 2))..<(3 * (2 * 6 + 2) + 3)]) == [255, 255, 255])
    }
}
