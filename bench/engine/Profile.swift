import CloakNN
import CloakSupport
import CloakTensor

/// Per-layer forward/backward times of a purely sequential model (SmallCNN), for finding where the time goes.
/// Runs the layers as `Sequential` does (a batch norm followed by a ReLU is one fused kernel, shown on the batch
/// norm's line) and, in training, skips the first layer's input gradient as the train step does.
func profileSequential(_ layers: [(name: String, layer: any Layer)], input: Tensor, labels: [Int], frozen: Bool,
                       repeats: Int = 5) {
    var forward = [Double](repeating: 0, count: layers.count), backward = forward
    var fusedIntoPrevious = [Bool](repeating: false, count: layers.count)
    for i in layers.indices.dropFirst() where layers[i - 1].layer is BatchNorm2D && layers[i].layer is ReLU {
        fusedIntoPrevious[i] = true
    }
    for r in 0..<(repeats + 1) {
        var x = input
        for (i, l) in layers.enumerated() where !fusedIntoPrevious[i] {
            let t0 = monotonicSeconds()
            if let bn = l.layer as? BatchNorm2D, i + 1 < layers.count, fusedIntoPrevious[i + 1] {
                x = bn.forward(x, fusingReLU: true)
            } else {
                x = l.layer.forward(x)
            }
            if r > 0 { forward[i] += monotonicSeconds() - t0 }
        }
        var g = softmaxCrossEntropy(logits: x, labels: labels).gradient
        for (i, l) in layers.enumerated().reversed() where !fusedIntoPrevious[i] {
            let t0 = monotonicSeconds()
            g = l.layer.backward(g, needsInputGradient: frozen || i > 0)
            if r > 0 { backward[i] += monotonicSeconds() - t0 }
        }
    }
    print("layer".padding(toLength: 34, withPad: " ", startingAt: 0) + "   fwd ms   bwd ms  (\(frozen ? "input-gradient only" : "training"))")
    for (i, l) in layers.enumerated() {
        let name = fusedIntoPrevious[i] ? l.name + " (fused above)" : l.name
        print(name.padding(toLength: 34, withPad: " ", startingAt: 0)
              + format(forward[i] / Double(repeats) * 1e3, width: 9) + format(backward[i] / Double(repeats) * 1e3, width: 9))
    }
    print("total".padding(toLength: 34, withPad: " ", startingAt: 0)
          + format(forward.reduce(0, +) / Double(repeats) * 1e3, width: 9)
          + format(backward.reduce(0, +) / Double(repeats) * 1e3, width: 9))
}

/// Leaf layers in execution order, for models that are chains of `Sequential`s.
func leafLayers(_ layer: any Layer, prefix: String = "") -> [(name: String, layer: any Layer)] {
    if layer.children.isEmpty { return [(prefix.isEmpty ? String(describing: type(of: layer)) : prefix, layer)] }
    return layer.children.flatMap { leafLayers($0.layer, prefix: prefix.isEmpty ? $0.name : prefix + "." + $0.name) }
        .map { ($0.name + (($0.layer.children.isEmpty) ? " [\(type(of: $0.layer))]" : ""), $0.layer) }
}

func format(_ x: Double, width: Int, decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let v = (x * scale).rounded() / scale
    var s = String(v)
    if let dot = s.firstIndex(of: ".") {
        let have = s.distance(from: dot, to: s.endIndex) - 1
        if have < decimals { s += String(repeating: "0", count: decimals - have) }
    }
    return String(repeating: " ", count: max(0, width - s.count)) + s
}
