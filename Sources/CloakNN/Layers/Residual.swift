/// A residual connection `y = main(x) + shortcut(x)` (identity shortcut when `shortcut` is nil).
///
/// The sum follows dlib's `add_prev`: if the two branches give different NHWC shapes (more channels on the main
/// path, or a different spatial size), both are zero-padded to the elementwise maximum shape, each at the origin.
/// The backward pass crops dL/dy back to each branch's shape. Sublayers are named `main` and `shortcut`.
public final class Residual: Layer {
    public let main: any Layer
    public let shortcut: (any Layer)?

    /// Forward cache for `backward`: the shapes of the two branch outputs.
    private var cachedMainShape: [Int]?
    private var cachedShortcutShape: [Int]?

    public init(main: any Layer, shortcut: (any Layer)? = nil) {
        self.main = main
        self.shortcut = shortcut
    }

    public var children: [(name: String, layer: any Layer)] {
        [("main", main)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }

    public func forward(_ input: Tensor) -> Tensor {
        let a = main.forward(input)
        let b = shortcut?.forward(input) ?? input
        cachedMainShape = a.shape
        cachedShortcutShape = b.shape
        return addPadded(a, b)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let mainShape = cached(cachedMainShape, "Residual"), shortcutShape = cached(cachedShortcutShape, "Residual")
        var dx = main.backward(cropped(outputGradient, to: mainShape))
        let shortcutGradient = cropped(outputGradient, to: shortcutShape)
        accumulate(shortcut?.backward(shortcutGradient) ?? shortcutGradient, into: &dx)
        return dx
    }
}
