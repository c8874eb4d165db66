#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A dense, contiguous, row-major array of `Float` with a shape.
///
/// ## Layout
/// The engine has **one activation layout: NHWC** (batch, height, width, channels; channels vary fastest).
/// Every image-like tensor that flows between layers has shape `[N, H, W, C]`. NHWC was chosen on purpose:
/// oneDNN's convolutions run within 3-10% of their blocked layout on it, and per-channel work (batch norm,
/// bias, ReLU) vectorises over the innermost, contiguous channel axis. Feature vectors are `[N, F]`.
/// Convolution weights keep PyTorch's layout `[O, I, kH, kW]` so weights can be exchanged with PyTorch;
/// linear weights are `[out, in]`.
///
/// ## Value semantics
/// `Tensor` is a value type with copy-on-write storage: copying a tensor is cheap, and the first mutation of a
/// shared copy duplicates the buffer. Storage is 64-byte aligned, so SIMD loads and oneDNN are happy.
public struct Tensor: Sendable {
    /// The extent of each axis, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage

    /// The number of elements (the product of `shape`).
    public var count: Int { storage.count }

    /// Creates a tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// Creates a tensor filled with one value.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
        let p = storage.pointer
        if value == 0 {
            memset(p, 0, storage.count * MemoryLayout<Float>.stride)
        } else {
            p.initialize(repeating: value, count: storage.count)
        }
    }

    /// Creates a tensor from row-major scalars.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.storage = TensorStorage(count: scalars.count)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { storage.pointer.update(from: base, count: src.count) }
        }
    }

    /// Creates a tensor of the given shape whose contents are not initialised yet; `body` must write every element.
    public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
        body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The elements in row-major order.
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// Reads the elements in place.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Writes the elements in place, copying the storage first if it is shared (copy on write).
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.version = TensorStorage.nextVersion()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same elements viewed with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "Cannot reshape \(shape) (\(count) elements) to \(newShape)")
        var result = self
        result.shape = newShape
        return result
    }

    /// The element at a multi-dimensional index (slow; for tests and debugging).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[offset(of: index)] }
        set {
            let o = offset(of: index)
            withUnsafeMutableBufferPointer { $0[o] = newValue }
        }
    }

    private func offset(of index: [Int]) -> Int {
        precondition(index.count == shape.count, "Index \(index) does not match shape \(shape)")
        var o = 0
        for (i, extent) in zip(index, shape) {
            precondition(i >= 0 && i < extent, "Index \(index) out of range for shape \(shape)")
            o = o * extent + i
        }
        return o
    }

    /// An identity for the current contents: it changes whenever the elements may have changed.
    /// Caches of derived data (such as weights reordered for oneDNN) compare it to skip recomputation.
    public var contentToken: ContentToken {
        ContentToken(storage: ObjectIdentifier(storage), version: storage.version)
    }

    /// See `Tensor.contentToken`.
    public struct ContentToken: Hashable, Sendable {
        let storage: ObjectIdentifier
        let version: UInt64
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first 8 elements, for debugging.
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}

/// The 64-byte-aligned buffer behind a `Tensor`.
///
/// It is a class so that tensors can share it until one of them writes (copy on write).
/// Marked `@unchecked Sendable`: a storage is only mutated through a uniquely referenced tensor.
@usableFromInline
final class TensorStorage: @unchecked Sendable {
    @usableFromInline let pointer: UnsafeMutablePointer<Float>
    @usableFromInline let count: Int
    /// Unique across all storages and mutations in the process, so a `ContentToken` is never reused.
    @usableFromInline var version: UInt64 = TensorStorage.nextVersion()

    private static let versionCounter = Atomic<UInt64>(0)
    @usableFromInline static func nextVersion() -> UInt64 {
        versionCounter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    init(count: Int) {
        self.count = count
        pointer = BufferPool.shared.take(count: max(count, 16))
    }

    @usableFromInline func copy() -> TensorStorage {
        let other = TensorStorage(count: count)
        other.pointer.update(from: pointer, count: count)
        return other
    }

    deinit { BufferPool.shared.give(pointer, count: max(count, 16)) }
}

/// Recycles freed tensor buffers by exact size.
///
/// A training step allocates the same activation sizes every time. Fresh large allocations come from `mmap`,
/// and touching them costs a page fault per 4 KiB (for a 32 MB activation that is slower than the ReLU on it).
/// Reusing buffers keeps them mapped. At most `capacityBytes` are kept; the rest go back to the system.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    private let lock = Mutex<State>(State())
    private let capacityBytes = 3 << 30
    /// Buffers smaller than this go straight to malloc/free, which is fast for them.
    private let minimumPooledCount = 16 << 10

    private struct State {
        /// Addresses as integers (Sendable), keyed by element count.
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }

    func take(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= minimumPooledCount {
            let reused = lock.withLock { state -> UInt? in
                guard let p = state.free[count]?.popLast() else { return nil }
                state.cachedBytes -= count * MemoryLayout<Float>.stride
                return p
            }
            if let reused, let p = UnsafeMutablePointer<Float>(bitPattern: reused) { return p }
        }
        var raw: UnsafeMutableRawPointer? = nil
        // Never inside precondition: -Ounchecked would drop the call.
        let rc = posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        guard rc == 0, let raw else { fatalError("Out of memory allocating \(count) floats") }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let bytes = count * MemoryLayout<Float>.stride
        let address = UInt(bitPattern: pointer), capacity = capacityBytes
        let kept = count >= minimumPooledCount && lock.withLock { state -> Bool in
            guard state.cachedBytes + bytes <= capacity else { return false }
            state.free[count, default: []].append(address)
            state.cachedBytes += bytes
            return true
        }
        if !kept { free(pointer) }
    }
}
