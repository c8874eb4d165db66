import CloakTensor

/// A residual connection `y = main(x) + shortcut(x)` (identity shortcut when `shortcut` is nil).
///
/// The sum follows dlib's `add_prev`: if the two branches give different NHWC shapes (more channels on the main
/// path, or a different spatial size), both are zero-padded to the elementwise maximum shape, each at the origin.
/// The backward pass crops dL/dy back to each branch's shape. Sublayers are named `main` and `shortcut`.
public final class Residual: Layer {
    /// The main branch (sublayer `main`).
    public let main: any Layer
    /// The shortcut branch (sublayer `shortcut`), or `nil` for the identity.
    public let shortcut: (any Layer)?

    /// Forward cache for `backward`: the shapes of the two branch outputs.
    private var cachedMainShape: [Int]?
    private var cachedShortcutShape: [Int]?

    /// Creates `y = main(x) + shortcut(x)`; a `nil` shortcut is the identity.
    public init(main: any Layer, shortcut: (any Layer)? = nil) {
        self.main = main
        self.shortcut = shortcut
    }

    /// `main`, and `shortcut` if present.
    public var children: [(name: String, layer: any Layer)] {
        [("main", main)] + (shortcut.map { [("shortcut", $0)] } ?? [])
    }

    /// Runs both branches on the input and adds them with `addPadded` (see `Layer.forward(_:)`); caches the two
    /// branch output shapes (the branches cache their own state).
    public func forward(_ input: Tensor) -> Tensor {
        let a = main.forward(input)
        let b = shortcut?.forward(input) ?? input
        cachedMainShape = a.shape
        cachedShortcutShape = b.shape
        return addPadded(a, b)
    }

    /// Crops dL/dy to each branch's output shape, back-propagates both branches and returns the sum of their
    /// input gradients (see the `Layer` gradient contract).
    public func backward(_ outputGradient: Tensor) -> Tensor {
        let mainShape = cached(cachedMainShape, "Residual"), shortcutShape = cached(cachedShortcutShape, "Residual")
        var dx = main.backward(cropped(outputGradient, to: mainShape))
        let shortcutGradient = cropped(outputGradient, to: shortcutShape)
        accumulate(shortcut?.backward(shortcutGradient) ?? shortcutGradient, into: &dx)
        return dx
    }
}
