import CloakNN
import CloakSupport
import CloakTensor
#if canImport(Glibc)
import Glibc
#endif

// cloak-bench-engine: times Cloak's engine on the benchmark rows of BENCHMARKS.md.
//   cloak-bench-engine [table] [--models small1,small3,resnet] [--small-only]
//   cloak-bench-engine profile
// `table` prints one line per row: "row<TAB>median wall ms<TAB>mean CPU ms per call (all threads)"; `profile` prints per-layer SmallCNN times.
// `make bench-engine` (bench/engine/compare.py) runs `table` once per model and round, interleaved with the
// PyTorch rows of the same model, so that both sides see the same machine state.

let arguments = CommandLine.arguments
let mode = arguments.count > 1 && !arguments[1].hasPrefix("--") ? arguments[1] : "table"

/// CPU time of the whole process (all threads), for comparisons on a loaded machine.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

/// Median seconds of `body` after `warmup` calls (the same warm-up as the PyTorch side: 2 calls, which create
/// and JIT every oneDNN primitive and fill the buffer pool).
func timed(warmup: Int = 2, repeats: Int, _ body: () -> Void) -> Double {
    timedWithCPU(warmup: warmup, repeats: repeats, body).wall
}

/// Median wall seconds and mean process CPU seconds (all threads) per call of `body`, after `warmup` calls.
/// CPU time is the steadier measure on a shared machine: it does not count time spent waiting for a core.
func timedWithCPU(warmup: Int = 2, repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
    for _ in 0..<warmup { body() }
    let cpu0 = processCPUSeconds()
    let wall = median((0..<repeats).map { _ in let t0 = monotonicSeconds(); body(); return monotonicSeconds() - t0 })
    return (wall, (processCPUSeconds() - cpu0) / Double(repeats))
}

struct Row {
    let name: String
    let milliseconds: Double
    var cpuMilliseconds: Double = 0
    init(name: String, milliseconds: Double) { self.name = name; self.milliseconds = milliseconds }
    init(_ name: String, _ t: (wall: Double, cpu: Double)) {
        self.name = name; milliseconds = t.wall * 1e3; cpuMilliseconds = t.cpu * 1e3
    }
}

func benchModel(_ name: String, _ model: any Layer, inputShape: [Int], repeats: Int, inference: Bool = true) -> [Row] {
    var rng = SplitMix64(seed: 1)
    let x = Tensor(uniform: 0...1, shape: inputShape, using: &rng)
    let labels = (0..<inputShape[0]).map { $0 % 10 }
    let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    model.setRequiresGradient(true)
    let train = timedWithCPU(repeats: repeats) {
        model.setTraining(true)
        model.zeroGradients()
        let loss = softmaxCrossEntropy(logits: model(x), labels: labels)
        // The images are data: no input gradient (PyTorch skips it because x does not require grad).
        _ = model.backward(loss.gradient, needsInputGradient: false)
        optimizer.step(model.parameters)
    }
    // PGD step as in the notes' PyTorch script: eval mode, frozen parameters, input gradient, sign step, projection.
    model.setTraining(false)
    model.setRequiresGradient(false)
    var xa = x
    let eps: Float = 8 / 255, alpha: Float = 2 / 255
    let pgd = timedWithCPU(repeats: repeats) {
        let loss = softmaxCrossEntropy(logits: model(xa), labels: labels)
        let g = model.backward(loss.gradient)
        xa = Tensor(shape: x.shape) { out in
            xa.withUnsafeBufferPointer { a in x.withUnsafeBufferPointer { x0 in g.withUnsafeBufferPointer { g in
                for i in 0..<out.count {
                    let stepped = a[i] + alpha * (g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0))
                    out[i] = min(max(min(max(stepped, x0[i] - eps), x0[i] + eps), 0), 1)
                }
            } } }
        }
    }
    var rows = [Row("\(name) train step", train), Row("\(name) PGD step", pgd)]
    if inference {
        rows.append(Row("\(name) inference", timedWithCPU(repeats: repeats) { _ = model(x) }))
    }
    model.setRequiresGradient(true)
    return rows
}

switch mode {
case "trace":
    // Per-call times of the first train steps, PGD steps and inferences in a fresh process, to see how long
    // the warm-up really is (primitive creation and JIT, buffer pool filling, page faults).
    var rng = SplitMix64(seed: 1)
    let model = SmallCNN(inputChannels: 1, classCount: 10, using: &rng)
    let x = Tensor(uniform: 0...1, shape: [128, 28, 28, 1], using: &rng)
    let labels = (0..<128).map { $0 % 10 }
    let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    func ms(_ body: () -> Void) -> String { let t0 = monotonicSeconds(); body(); return format((monotonicSeconds() - t0) * 1e3, width: 6) }
    print("train:", (0..<10).map { _ in ms {
        model.setTraining(true); model.zeroGradients()
        _ = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient, needsInputGradient: false)
        optimizer.step(model.parameters)
    } }.joined(separator: " "))
    model.setTraining(false); model.setRequiresGradient(false)
    print("pgd:  ", (0..<10).map { _ in ms { _ = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient) } }
        .joined(separator: " "))
    print("infer:", (0..<10).map { _ in ms { _ = model(x) } }.joined(separator: " "))
    let cpu0 = processCPUSeconds(), wall0 = monotonicSeconds()
    for _ in 0..<20 { _ = model(x) }
    print("inference CPU time per call \(format((processCPUSeconds() - cpu0) / 20 * 1e3, width: 1)) ms, wall "
          + "\(format((monotonicSeconds() - wall0) / 20 * 1e3, width: 1)) ms")
    model.setTraining(true); model.setRequiresGradient(true)
    let cpu1 = processCPUSeconds(), wall1 = monotonicSeconds()
    for _ in 0..<10 {
        model.zeroGradients()
        _ = model.backward(softmaxCrossEntropy(logits: model(x), labels: labels).gradient, needsInputGradient: false)
        optimizer.step(model.parameters)
    }
    print("train step CPU time per call \(format((processCPUSeconds() - cpu1) / 10 * 1e3, width: 1)) ms, wall "
          + "\(format((monotonicSeconds() - wall1) / 10 * 1e3, width: 1)) ms")
case "first-conv":
    // Times of the first convolution's passes (3 -> 64 and 1 -> 64 channels, 3x3, batch 128).
    for (channels, size) in [(1, 28), (3, 32)] {
        let g = ConvolutionGeometry(batch: 128, inputHeight: size, inputWidth: size, inputChannels: channels,
                                    outputChannels: 64, kernelHeight: 3, kernelWidth: 3, paddingHeight: 1,
                                    paddingWidth: 1, hasBias: true)
        var rng = SplitMix64(seed: 1)
        let x = Tensor(uniform: 0...1, shape: g.inputShape, using: &rng)
        let w = Tensor(uniform: -1...1, shape: g.weightShape, using: &rng), b = Tensor(zeros: [64])
        let dy = Tensor(uniform: -1...1, shape: g.outputShape, using: &rng)
        var dw = Tensor(zeros: g.weightShape), db: Tensor? = Tensor(zeros: [64])
        let fwd = timed(repeats: 15) { _ = conv2dForward(x, weight: w, bias: b, geometry: g) }
        let cpu0 = processCPUSeconds()
        let bwdW = timed(repeats: 15) {
            conv2dBackwardParameters(input: x, outputGradient: dy, geometry: g, weightGradient: &dw, biasGradient: &db)
        }
        print("  weight gradient: \(format((processCPUSeconds() - cpu0) / 17 * 1e3, width: 1)) ms CPU per call")
        let bwdD = timed(repeats: 15) { _ = conv2dBackwardInput(dy, weight: w, geometry: g) }
        print("\(channels)x\(size)x\(size) first conv: forward \(format(fwd * 1e3, width: 1)) ms, "
              + "weight gradient \(format(bwdW * 1e3, width: 1)) ms, input gradient \(format(bwdD * 1e3, width: 1)) ms")
    }
case "profile":
    for (channels, size) in [(1, 28), (3, 32)] {
        var rng = SplitMix64(seed: 1)
        let model = SmallCNN(inputChannels: channels, classCount: 10, using: &rng)
        let x = Tensor(uniform: 0...1, shape: [128, size, size, channels], using: &rng)
        let labels = (0..<128).map { $0 % 10 }
        print("SmallCNN \(channels)x\(size)x\(size), batch 128")
        model.setTraining(true)
        profileSequential(leafLayers(model), input: x, labels: labels, frozen: false)
        model.setTraining(false)
        model.setRequiresGradient(false)
        profileSequential(leafLayers(model), input: x, labels: labels, frozen: true)
        print("")
    }
default:
    var models = ["small1", "small3", "resnet"]
    if let i = arguments.firstIndex(of: "--models"), i + 1 < arguments.count {
        models = arguments[i + 1].split(separator: ",").map(String.init)
    }
    if arguments.contains("--small-only") { models.removeAll { $0 == "resnet" } }
    var rows: [Row] = []
    for m in models {
        var rng = SplitMix64(seed: 1)
        switch m {
        case "small1":
            rows += benchModel("SmallCNN 1x28x28", SmallCNN(inputChannels: 1, classCount: 10, using: &rng),
                               inputShape: [128, 28, 28, 1], repeats: 15)
        case "small3":
            rows += benchModel("SmallCNN 3x32x32", SmallCNN(inputChannels: 3, classCount: 10, using: &rng),
                               inputShape: [128, 32, 32, 3], repeats: 15)
        case "resnet":
            rows += benchModel("ResNet18 3x32x32", ResNet18(using: &rng), inputShape: [128, 32, 32, 3], repeats: 5,
                               inference: false)
        default:
            fatalError("unknown model \(m) (small1, small3, resnet)")
        }
    }
    for row in rows { print("\(row.name)\t\(format(row.milliseconds, width: 1))\t\(format(row.cpuMilliseconds, width: 1))") }
}
