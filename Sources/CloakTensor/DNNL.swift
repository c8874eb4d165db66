// Why it is long: the engine keeps oneDNN behind this one file (primitive caches, reorders, sgemm); splitting it
// would spread the C API over several.
//
// The only file in Cloak that calls oneDNN (Debian libdnnl-dev 2.6.3, C API v2, op-descriptor based).
//
// It owns the CPU engine and stream, a cache of convolution primitives keyed by geometry, the weight
// reorders between PyTorch's plain OIHW layout and whatever blocked layout oneDNN's fastest kernel wants,
// and the sgemm entry point. Activations are always plain NHWC (`dnnl_nhwc`), so they never need a reorder.
//
// Threading: oneDNN runs on OpenMP (libgomp) threads. Calls are serialised by one lock; do not run Swift
// Dispatch workers at the same time as a oneDNN call (both pools would spin on the same cores).
//
// A oneDNN 3.x upgrade replaces the op-descriptor API (`*_desc_init` + `dnnl_primitive_desc_create`) by
// `dnnl_*_primitive_desc_create`; only this file would change.

import CDNNL
import Foundation

/// Serialised access to oneDNN: one engine, one stream, cached primitives.
final class DNNLRuntime: @unchecked Sendable {
    static let shared = DNNLRuntime()

    private let engine: dnnl_engine_t
    private let stream: dnnl_stream_t
    private let lock = NSLock()
    private var convolutions: [ConvolutionGeometry: ConvolutionPlan] = [:]
    /// How many times each convolution pass ran per geometry (tests use it to prove work was skipped).
    private var counts: [ConvolutionGeometry: ConvolutionExecutionCounts] = [:]

    private init() {
        var engine: dnnl_engine_t?
        check(dnnl_engine_create(&engine, dnnl_cpu, 0), "engine_create")
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        self.engine = engine!
        self.stream = stream!
    }

    /// The oneDNN version string, for benchmarks and reports.
    var version: String {
        guard let v = dnnl_version()?.pointee else { return "unknown" }
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    // MARK: - Convolution

    /// `output = conv(input, weight) + bias`. Input `[N, H, W, C]`, weight `[O, I, kH, kW]`, output `[N, OH, OW, O]`.
    func convolutionForward(
        _ g: ConvolutionGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        weightToken: Tensor.ContentToken, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
    ) {
        lock.lock(); defer { lock.unlock() }
        let plan = plan(for: g)
        let w = plan.forwardWeights.prepare(weight, token: weightToken, runtime: self)
        var args = [
            arg(DNNL_ARG_SRC, plan.sourceMD, input),
            arg(DNNL_ARG_WEIGHTS, plan.forwardWeights.md, w),
            arg(DNNL_ARG_DST, plan.destinationMD, output),
        ]
        if let bias { args.append(arg(DNNL_ARG_BIAS, plan.biasMD, bias)) }
        execute(plan.forward, args)
        counts[g, default: .init()].forward += 1
    }

    /// `inputGradient = conv_transpose(outputGradient, weight)` (overwrites). Layouts as in `convolutionForward`.
    func convolutionBackwardData(
        _ g: ConvolutionGeometry, outputGradient: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        weightToken: Tensor.ContentToken, inputGradient: UnsafeMutablePointer<Float>
    ) {
        lock.lock(); defer { lock.unlock() }
        if g.usesColumnBackward {
            // dcol = dY · W (rows: output positions, columns: (i, kh, kw)), then scatter-add into dx.
            let dcol = TensorStorage(count: g.outputPositions * g.columnCount)
            sgemmUnlocked(transposeA: false, transposeB: false, m: g.outputPositions, n: g.columnCount,
                          k: g.outputChannels, alpha: 1, a: outputGradient, lda: g.outputChannels, b: weight,
                          ldb: g.columnCount, beta: 0, c: dcol.pointer, ldc: g.columnCount)
            columnsToImage(dcol.pointer, g, into: inputGradient)
            counts[g, default: .init()].backwardData += 1
            return
        }
        let plan = plan(for: g)
        plan.prepareBackwardData(runtime: self)
        let w = plan.backwardDataWeights!.prepare(weight, token: weightToken, runtime: self)
        execute(plan.backwardData!, [
            arg(DNNL_ARG_DIFF_DST, plan.destinationMD, outputGradient),
            arg(DNNL_ARG_WEIGHTS, plan.backwardDataWeights!.md, w),
            arg(DNNL_ARG_DIFF_SRC, plan.sourceMD, inputGradient),
        ])
        counts[g, default: .init()].backwardData += 1
    }

    /// Adds dL/dW (`[O, I, kH, kW]`) and, if `biasGradient` is given, dL/db (`[O]`) to the given buffers.
    func convolutionBackwardWeights(
        _ g: ConvolutionGeometry, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?
    ) {
        lock.lock(); defer { lock.unlock() }
        if g.usesColumnBackward {
            // dW += dYᵀ · col, with col[p, (i, kh, kw)] the input patch of output position p (OIHW order).
            let col = TensorStorage(count: g.outputPositions * g.columnCount)
            imageToColumns(input, g, into: col.pointer)
            sgemmUnlocked(transposeA: true, transposeB: false, m: g.outputChannels, n: g.columnCount,
                          k: g.outputPositions, alpha: 1, a: outputGradient, lda: g.outputChannels, b: col.pointer,
                          ldb: g.columnCount, beta: 1, c: weightGradient, ldc: g.columnCount)
            if let biasGradient { addColumnSums(outputGradient, rows: g.outputPositions, columns: g.outputChannels,
                                                into: biasGradient) }
            counts[g, default: .init()].backwardWeights += 1
            return
        }
        let plan = plan(for: g)
        plan.prepareBackwardWeights(runtime: self)
        let bw = plan.backwardWeights!
        var args = [
            arg(DNNL_ARG_SRC, plan.sourceMD, input),
            arg(DNNL_ARG_DIFF_DST, plan.destinationMD, outputGradient),
            arg(DNNL_ARG_DIFF_WEIGHTS, bw.diffWeightsMD, bw.diffWeights.pointer),
        ]
        if g.hasBias { args.append(arg(DNNL_ARG_DIFF_BIAS, plan.biasMD, bw.diffBias.pointer)) }
        execute(bw.primitive, args)
        counts[g, default: .init()].backwardWeights += 1
        // Bring dW back to OIHW (if oneDNN chose a blocked layout), then accumulate.
        var plain = bw.diffWeights.pointer
        if let reorder = bw.toPlain {
            executeSingleThreaded(reorder, [arg(DNNL_ARG_FROM, bw.diffWeightsMD, bw.diffWeights.pointer),
                              arg(DNNL_ARG_TO, plan.plainWeightsMD, bw.plainScratch.pointer)])
            plain = bw.plainScratch.pointer
        }
        accumulate(plain, into: weightGradient, count: g.weightCount)
        if let biasGradient { accumulate(bw.diffBias.pointer, into: biasGradient, count: g.outputChannels) }
    }

    /// Execution counts of the convolution passes for one geometry.
    func executionCounts(for g: ConvolutionGeometry) -> ConvolutionExecutionCounts {
        lock.lock(); defer { lock.unlock() }
        return counts[g] ?? .init()
    }

    private func plan(for g: ConvolutionGeometry) -> ConvolutionPlan {
        if let p = convolutions[g] { return p }
        let p = ConvolutionPlan(g, runtime: self)
        convolutions[g] = p
        return p
    }

    // MARK: - GEMM

    /// Row-major `C = alpha * op(A) * op(B) + beta * C` with oneDNN's sgemm (OpenMP-threaded, same pool as convs).
    /// `op(A)` is `M x K`, `op(B)` is `K x N`; `lda`, `ldb`, `ldc` are row strides of the stored matrices.
    func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        lock.lock(); defer { lock.unlock() }
        sgemmUnlocked(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                      b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    private func sgemmUnlocked(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let ta = CChar(UInt8(ascii: transposeA ? "T" : "N")), tb = CChar(UInt8(ascii: transposeB ? "T" : "N"))
        check(dnnl_sgemm(ta, tb, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc)),
              "sgemm")
    }

    // MARK: - Plumbing

    fileprivate func execute(_ primitive: dnnl_primitive_t, _ args: [(Int32, dnnl_memory_t)]) {
        let execArgs = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1) }
        check(dnnl_primitive_execute(primitive, stream, Int32(execArgs.count), execArgs), "primitive_execute")
        check(dnnl_stream_wait(stream), "stream_wait")
        for (_, m) in args { dnnl_memory_destroy(m) }
    }

    /// `execute` with OpenMP limited to the calling thread, for small memory-bound work (weight reorders of at
    /// most a few MB). Waking the second OpenMP thread and joining it costs more than such work on a shared
    /// machine: the weight reorders took 1-4 ms per call with 2 threads under load, about 0.1 ms alone.
    fileprivate func executeSingleThreaded(_ primitive: dnnl_primitive_t, _ args: [(Int32, dnnl_memory_t)]) {
        guard let set = OpenMP.setThreads, let get = OpenMP.maxThreads else { return execute(primitive, args) }
        let previous = get()
        if previous > 1 { set(1) }
        execute(primitive, args)
        if previous > 1 { set(previous) }
    }

    /// A memory object over caller-owned data (no copy). Destroyed by `execute`.
    fileprivate func arg(_ which: Int32, _ md: UnsafePointer<dnnl_memory_desc_t>, _ data: UnsafePointer<Float>)
        -> (Int32, dnnl_memory_t) {
        var m: dnnl_memory_t?
        check(dnnl_memory_create(&m, md, engine, UnsafeMutableRawPointer(mutating: data)), "memory_create")
        return (which, m!)
    }

    fileprivate func primitiveDescriptor(_ opDesc: UnsafeRawPointer, hint: dnnl_primitive_desc_t?) -> dnnl_primitive_desc_t {
        var pd: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&pd, opDesc, nil, engine, hint), "primitive_desc_create")
        return pd!
    }

    fileprivate func reorder(from: UnsafePointer<dnnl_memory_desc_t>, to: UnsafePointer<dnnl_memory_desc_t>)
        -> dnnl_primitive_t {
        var pd: dnnl_primitive_desc_t?
        check(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, nil), "reorder_primitive_desc_create")
        defer { dnnl_primitive_desc_destroy(pd) }
        return primitive(pd!)
    }

    fileprivate func primitive(_ pd: dnnl_primitive_desc_t) -> dnnl_primitive_t {
        var p: dnnl_primitive_t?
        check(dnnl_primitive_create(&p, pd), "primitive_create")
        return p!
    }
}

/// The compute threads oneDNN runs on.
public enum ComputeThreads {
    /// OpenMP's thread count (`OMP_NUM_THREADS`, else the cores): oneDNN splits its sums across these threads, so
    /// training results depend on it (the demo's cloaked model ended its first epoch at 46.9% on 2 threads and
    /// 52.7% on 1) and runs record it. 1 when OpenMP is not linked.
    public static var count: Int { Int(OpenMP.maxThreads?() ?? 1) }
}

/// libgomp's thread-count controls, looked up at run time (oneDNN links libgomp; no OpenMP header is needed).
/// `omp_set_num_threads` changes the calling thread's setting only, which is the thread that runs oneDNN here.
private enum OpenMP {
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias MaxThreads = @convention(c) () -> Int32
    static let setThreads: SetThreads? = symbol("omp_set_num_threads")
    static let maxThreads: MaxThreads? = symbol("omp_get_max_threads")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let p = dlsym(handle, name) else { return nil }
        return unsafeBitCast(p, to: T.self)
    }
}

private func accumulate(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { destination[i] += source[i] }
}

private func check(_ status: dnnl_status_t, _ what: String) {
    // A failure here is a bug in this wrapper (bad descriptor or shape), never an expected condition.
    if status != dnnl_success { fatalError("oneDNN \(what) failed with status \(status.rawValue)") }
}

/// A memory descriptor that lives on the heap, so pointers to it stay valid.
private final class MemoryDescriptor {
    let pointer = UnsafeMutablePointer<dnnl_memory_desc_t>.allocate(capacity: 1)
    init(dims: [Int], tag: dnnl_format_tag_t) {
        pointer.initialize(to: dnnl_memory_desc_t())
        let d = dims.map(Int64.init)
        check(dnnl_memory_desc_init_by_tag(pointer, Int32(d.count), d, dnnl_f32, tag), "memory_desc_init_by_tag")
    }
    init(copying md: UnsafePointer<dnnl_memory_desc_t>) {
        pointer.initialize(to: md.pointee)
    }
    deinit { pointer.deallocate() }
}

/// Weights in the layout a primitive wants, reordered from OIHW only when the weights changed.
private final class PreparedWeights {
    let md: UnsafePointer<dnnl_memory_desc_t>
    private let descriptor: MemoryDescriptor
    private let reorder: dnnl_primitive_t?
    private let buffer: TensorStorage?
    private let plainMD: UnsafePointer<dnnl_memory_desc_t>
    private var token: Tensor.ContentToken?

    init(wanted: UnsafePointer<dnnl_memory_desc_t>, plain: MemoryDescriptor, runtime: DNNLRuntime) {
        descriptor = MemoryDescriptor(copying: wanted)
        md = UnsafePointer(descriptor.pointer)
        plainMD = UnsafePointer(plain.pointer)
        if dnnl_memory_desc_equal(wanted, plain.pointer) != 0 {
            reorder = nil; buffer = nil
        } else {
            reorder = runtime.reorder(from: plainMD, to: md)
            buffer = TensorStorage(count: dnnl_memory_desc_get_size(md) / MemoryLayout<Float>.stride)
        }
    }

    /// Returns a pointer to the weights in `md`'s layout.
    func prepare(_ weight: UnsafePointer<Float>, token newToken: Tensor.ContentToken, runtime: DNNLRuntime)
        -> UnsafePointer<Float> {
        guard let reorder, let buffer else { return weight }
        if token != newToken {
            runtime.executeSingleThreaded(reorder, [runtime.arg(DNNL_ARG_FROM, plainMD, weight),
                                      runtime.arg(DNNL_ARG_TO, md, buffer.pointer)])
            token = newToken
        }
        return UnsafePointer(buffer.pointer)
    }

    deinit { if let reorder { dnnl_primitive_destroy(reorder) } }
}

/// Forward, backward-data and backward-weights primitives of one convolution geometry.
/// The backward ones are created on first use, so inference and input-gradient-only work never build them.
private final class ConvolutionPlan {
    let geometry: ConvolutionGeometry
    private let source: MemoryDescriptor, destination: MemoryDescriptor
    private let plainWeights: MemoryDescriptor, bias: MemoryDescriptor, anyWeights: MemoryDescriptor
    private let forwardPD: dnnl_primitive_desc_t
    let forward: dnnl_primitive_t
    let forwardWeights: PreparedWeights
    private(set) var backwardData: dnnl_primitive_t?
    private var backwardDataPD: dnnl_primitive_desc_t?
    private(set) var backwardDataWeights: PreparedWeights?
    private(set) var backwardWeights: BackwardWeights?

    var sourceMD: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(source.pointer) }
    var destinationMD: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(destination.pointer) }
    var plainWeightsMD: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(plainWeights.pointer) }
    var biasMD: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(bias.pointer) }

    private var strides: [Int64] { geometry.dnnlStrides }
    private var paddingLeft: [Int64] { geometry.dnnlPaddingLeft }
    private var paddingRight: [Int64] { geometry.dnnlPaddingRight }

    init(_ g: ConvolutionGeometry, runtime: DNNLRuntime) {
        geometry = g
        // Logical dims are always (N, C, H, W) in oneDNN; the tag says how they are laid out.
        source = MemoryDescriptor(dims: [g.batch, g.inputChannels, g.inputHeight, g.inputWidth], tag: dnnl_nhwc)
        destination = MemoryDescriptor(dims: [g.batch, g.outputChannels, g.outputHeight, g.outputWidth], tag: dnnl_nhwc)
        let weightDims = [g.outputChannels, g.inputChannels, g.kernelHeight, g.kernelWidth]
        plainWeights = MemoryDescriptor(dims: weightDims, tag: dnnl_oihw)
        anyWeights = MemoryDescriptor(dims: weightDims, tag: dnnl_format_tag_any)
        bias = MemoryDescriptor(dims: [g.outputChannels], tag: dnnl_x)

        var desc = dnnl_convolution_desc_t()
        check(dnnl_convolution_forward_desc_init(
            &desc, dnnl_forward_training, dnnl_convolution_direct, source.pointer, anyWeights.pointer,
            g.hasBias ? bias.pointer : nil, destination.pointer, g.dnnlStrides, g.dnnlPaddingLeft, g.dnnlPaddingRight),
              "convolution_forward_desc_init")
        forwardPD = withUnsafePointer(to: &desc) { runtime.primitiveDescriptor($0, hint: nil) }
        forward = runtime.primitive(forwardPD)
        forwardWeights = PreparedWeights(wanted: dnnl_primitive_desc_query_md(forwardPD, dnnl_query_weights_md, 0)!,
                                         plain: plainWeights, runtime: runtime)
    }

    func prepareBackwardData(runtime: DNNLRuntime) {
        guard backwardData == nil else { return }
        var desc = dnnl_convolution_desc_t()
        check(dnnl_convolution_backward_data_desc_init(
            &desc, dnnl_convolution_direct, source.pointer, anyWeights.pointer, destination.pointer,
            strides, paddingLeft, paddingRight), "convolution_backward_data_desc_init")
        let pd = withUnsafePointer(to: &desc) { runtime.primitiveDescriptor($0, hint: forwardPD) }
        backwardDataPD = pd
        backwardData = runtime.primitive(pd)
        backwardDataWeights = PreparedWeights(wanted: dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!,
                                              plain: plainWeights, runtime: runtime)
    }

    func prepareBackwardWeights(runtime: DNNLRuntime) {
        guard backwardWeights == nil else { return }
        var desc = dnnl_convolution_desc_t()
        check(dnnl_convolution_backward_weights_desc_init(
            &desc, dnnl_convolution_direct, source.pointer, anyWeights.pointer,
            geometry.hasBias ? bias.pointer : nil, destination.pointer, strides, paddingLeft, paddingRight),
              "convolution_backward_weights_desc_init")
        let pd = withUnsafePointer(to: &desc) { runtime.primitiveDescriptor($0, hint: forwardPD) }
        backwardWeights = BackwardWeights(pd: pd, plain: plainWeights, geometry: geometry, runtime: runtime)
    }

    deinit {
        dnnl_primitive_destroy(forward); dnnl_primitive_desc_destroy(forwardPD)
        if let backwardData { dnnl_primitive_destroy(backwardData) }
        if let backwardDataPD { dnnl_primitive_desc_destroy(backwardDataPD) }
    }
}

/// The backward-weights primitive with its output buffers and the reorder back to OIHW.
private final class BackwardWeights {
    let pd: dnnl_primitive_desc_t
    let primitive: dnnl_primitive_t
    private let diffWeightsDescriptor: MemoryDescriptor
    var diffWeightsMD: UnsafePointer<dnnl_memory_desc_t> { UnsafePointer(diffWeightsDescriptor.pointer) }
    let diffWeights: TensorStorage
    let diffBias: TensorStorage
    let plainScratch: TensorStorage
    let toPlain: dnnl_primitive_t?

    init(pd: dnnl_primitive_desc_t, plain: MemoryDescriptor, geometry g: ConvolutionGeometry, runtime: DNNLRuntime) {
        self.pd = pd
        primitive = runtime.primitive(pd)
        diffWeightsDescriptor = MemoryDescriptor(copying: dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0)!)
        diffWeights = TensorStorage(count: dnnl_memory_desc_get_size(diffWeightsDescriptor.pointer) / 4)
        diffBias = TensorStorage(count: g.outputChannels)
        plainScratch = TensorStorage(count: g.weightCount)
        toPlain = dnnl_memory_desc_equal(diffWeightsDescriptor.pointer, plain.pointer) != 0
            ? nil : runtime.reorder(from: diffWeightsDescriptor.pointer, to: plain.pointer)
    }

    deinit {
        dnnl_primitive_destroy(primitive); dnnl_primitive_desc_destroy(pd)
        if let toPlain { dnnl_primitive_destroy(toPlain) }
    }
}

private extension ConvolutionGeometry {
    var dnnlStrides: [Int64] { [Int64(strideHeight), Int64(strideWidth)] }
    var dnnlPaddingLeft: [Int64] { [Int64(paddingHeight), Int64(paddingWidth)] }
    /// Right/bottom padding chosen so that oneDNN's size rule gives exactly `outputHeight`/`outputWidth`.
    var dnnlPaddingRight: [Int64] {
        [Int64((outputHeight - 1) * strideHeight + kernelHeight - inputHeight - paddingHeight),
         Int64((outputWidth - 1) * strideWidth + kernelWidth - inputWidth - paddingWidth)]
    }
}
