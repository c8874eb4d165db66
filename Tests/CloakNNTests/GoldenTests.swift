import CloakTensor
import Foundation
import Testing
@testable import CloakNN

/// Compares the engine with PyTorch 1.13 on fixtures written by `Fixtures/make_fixtures.py` (run it by hand with
/// Debian's `/usr/bin/python3` to regenerate). Tolerance: relative L2 error 1e-4 per tensor
/// (absolute 1e-6 for tensors with a norm below 1e-2).
@Suite("Golden numbers from PyTorch")
struct GoldenTests {
    static let tolerance = 1e-4

    @Test("SmallCNN (ToyModel): forward, loss, input and parameter gradients, running stats, 2 SGD steps, inference")
    func smallCNN() throws {
        var rng = SplitMix64(seed: 0)
        let model = SmallCNN(inputChannels: 1, classCount: 3, widths: [3, 4, 4], using: &rng)
        try checkAgainstPyTorch(model, fixture: "smallcnn")
    }

    @Test("ResNet BasicBlock with a strided projection shortcut, odd input size")
    func basicBlock() throws {
        var rng = SplitMix64(seed: 0)
        let block = BasicBlock(inputChannels: 3, outputChannels: 4, stride: 2, using: &rng)
        try checkAgainstPyTorch(block, fixture: "basicblock")
    }

    @Test("SGD with Nesterov momentum and Adam with weight decay over three steps")
    func optimizers() throws {
        let f = try Fixture(named: "optimizers")
        let gradients = try f.tensorList("gradients")
        for (key, optimizer) in [
            ("sgd_nesterov", SGD(learningRate: 0.05, momentum: 0.9, weightDecay: 1e-2, nesterov: true) as any Optimizer),
            ("adam", Adam(learningRate: 0.01, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 1e-2)),
        ] {
            let p = Parameter(try f.tensor("initial"))
            for g in gradients {
                p.gradient = g
                optimizer.step([("p", p)])
            }
            expectClose(p.value, try f.tensor(key), key)
        }
    }

    private func checkAgainstPyTorch(_ model: any Layer, fixture name: String) throws {
        let f = try Fixture(named: name)
        let parameters = try f.tensors("parameters"), buffers = try f.tensors("buffers")
        #expect(Set(model.parameters.map(\.name)) == Set(parameters.keys), "parameter names match PyTorch's")
        #expect(Set(model.buffers.map(\.name)) == Set(buffers.keys), "buffer names match PyTorch's")
        for (n, p) in model.parameters { p.value = try #require(parameters[n]) }
        for (n, b) in model.buffers { b.value = try #require(buffers[n]) }

        model.setTraining(true)
        model.zeroGradients()
        let x = try f.tensor("input")
        let y = model(x)
        expectClose(y, try f.tensor("output"), "\(name) output")
        let outputGradient: Tensor
        if let labels = f.json["labels"] as? [Int] {
            let ce = softmaxCrossEntropy(logits: y, labels: labels)
            #expect(abs(Double(ce.loss) - (f.json["loss"] as! Double)) < 1e-5 * max(1, abs(f.json["loss"] as! Double)))
            outputGradient = ce.gradient
        } else {
            outputGradient = try f.tensor("probe")
        }
        let dx = model.backward(outputGradient)
        expectClose(dx, try f.tensor("input_gradient"), "\(name) input gradient")
        let gradients = try f.tensors("parameter_gradients")
        for (n, p) in model.parameters { expectClose(p.gradient, try #require(gradients[n]), "\(name) \(n).grad") }
        let buffersAfter = try f.tensors("buffers_after_forward")
        for (n, b) in model.buffers { expectClose(b.value, try #require(buffersAfter[n]), "\(name) \(n) after forward") }

        let sgd = try #require(f.json["sgd"] as? [String: Double])
        let optimizer = SGD(learningRate: Float(sgd["learning_rate"]!), momentum: Float(sgd["momentum"]!),
                            weightDecay: Float(sgd["weight_decay"]!))
        optimizer.step(model.parameters)
        optimizer.step(model.parameters)
        let stepped = try f.tensors("parameters_after_two_sgd_steps")
        for (n, p) in model.parameters { expectClose(p.value, try #require(stepped[n]), "\(name) \(n) after SGD") }

        model.setTraining(false)
        expectClose(model(x), try f.tensor("inference_output_after_steps"), "\(name) inference output")
    }
}

func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String, tolerance: Double = GoldenTests.tolerance,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    // Floor 1e-2: tensors with a tiny norm are compared with absolute error 1e-6 instead. This matters for conv
    // biases in front of batch norm, whose exact gradient is zero (both sides are ~1e-8 rounding noise).
    let error = relativeError(actual.scalars, expected.scalars, floor: 1e-2)
    #expect(error < tolerance, "\(what): relative error \(error)\n  got      \(actual)\n  expected \(expected)",
            sourceLocation: sourceLocation)
}

/// One JSON fixture from `Tests/CloakNNTests/Fixtures`.
struct Fixture {
    let json: [String: Any]

    init(named name: String) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/\(name).json")
        json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func tensor(_ key: String) throws -> Tensor { try Self.decode(try #require(json[key])) }
    func tensors(_ key: String) throws -> [String: Tensor] {
        try #require(json[key] as? [String: Any]).mapValues(Self.decode)
    }
    func tensorList(_ key: String) throws -> [Tensor] { try #require(json[key] as? [Any]).map(Self.decode) }

    /// `{"shape": [...], "data": base64 little-endian float32}`.
    static func decode(_ value: Any) throws -> Tensor {
        let object = try #require(value as? [String: Any])
        let shape = try #require(object["shape"] as? [Int])
        let text = try #require(object["data"] as? String)
        let data = try #require(Data(base64Encoded: text))
        let scalars = data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}
