import Foundation

/// Reads dlib's binary serialisation format (`dlib/serialize.h`) from an in-memory file.
///
/// Encodings:
/// - **Integer** (any width, signed or not): one control byte `c`; `c & 0x0F` is the number `n` (1...8) of
///   magnitude bytes that follow, little-endian; `c & 0x80` marks a negative value. Zero is `01 00`.
/// - **float / double**: two integers, a 64-bit mantissa then a 16-bit exponent; the value is
///   `mantissa * 2^exponent`. Exponents 32000, 32001, 32002 mean +inf, -inf and NaN.
/// - **bool**: one ASCII byte, `'1'` or `'0'`.
/// - **std::string**: integer length, then that many bytes.
/// - **std::vector<T>** / **dlib::array<T>**: integer count, then the elements.
/// - **dlib::matrix<T>**: `-rows`, `-columns` (negative marks the current format), then the elements
///   row-major, each in its own encoding.
/// - **resizable_tensor**: integer version 2, integers `n, k, nr, nc`, then `n*k*nr*nc` raw IEEE float32
///   little-endian values.
/// - **alias_tensor** (a shape only): integer version 1, then `n, k, nr, nc`.
///
/// Every read throws a ``DlibFormatError`` naming the file and the offset on anything unexpected.
public struct DlibReader: Sendable {
    /// The file name used in error messages.
    public let path: String
    /// The offset of the next unread byte.
    public private(set) var offset: Int
    private let bytes: [UInt8]

    /// Creates a reader over `bytes`; `path` is used only in error messages.
    public init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
        self.offset = 0
    }

    /// Reads the whole file at `path`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file"
            throw DlibFormatError.unreadable(path: path, reason: reason)
        }
        self.init(bytes: [UInt8](data), path: path)
    }

    /// True when every byte has been consumed.
    public var isAtEnd: Bool { offset == bytes.count }

    /// Number of bytes not yet read.
    public var remainingCount: Int { bytes.count - offset }

    /// Throws unless every byte has been consumed.
    public func expectEnd() throws {
        if !isAtEnd { throw DlibFormatError.trailingBytes(path: path, offset: offset, count: remainingCount) }
    }

    /// An error at the current offset.
    public func invalid(_ expected: String, found: String) -> DlibFormatError {
        .invalid(path: path, offset: offset, expected: expected, found: found)
    }

    // MARK: - Primitives

    private mutating func byte(_ expected: String) throws -> UInt8 {
        guard offset < bytes.count else {
            throw DlibFormatError.unexpectedEnd(path: path, offset: offset, expected: expected)
        }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Peeks at the next byte without consuming it (`nil` at the end).
    public func peekByte() -> UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// Reads a signed integer of at most `maxBytes` magnitude bytes (`int`: 4, `long`: 8, `int16`: 2).
    public mutating func readInteger(_ what: String = "an integer", maxBytes: Int = 8) throws -> Int64 {
        let start = offset
        let control = try byte(what)
        let count = Int(control & 0x0F)
        guard control & 0x70 == 0, count >= 1, count <= maxBytes else {
            offset = start
            throw invalid(what, found: String(format: "control byte 0x%02x", control))
        }
        var magnitude: UInt64 = 0
        for i in 0..<count { magnitude |= UInt64(try byte(what)) << (8 * UInt64(i)) }
        guard magnitude <= UInt64(Int64.max) else {
            offset = start
            throw invalid(what, found: "a magnitude beyond 64-bit range")
        }
        return control & 0x80 != 0 ? -Int64(magnitude) : Int64(magnitude)
    }

    /// Reads an unsigned integer (`unsigned long`); a sign bit is an error, as in dlib.
    public mutating func readUnsigned(_ what: String = "an unsigned integer", maxBytes: Int = 8) throws -> UInt64 {
        let start = offset
        let value = try readInteger(what, maxBytes: maxBytes)
        if value < 0 || (value == 0 && bytes[start] & 0x80 != 0) {
            offset = start
            throw invalid(what, found: "a negative value \(value)")
        }
        return UInt64(value)
    }

    /// Reads a non-negative integer that must fit `Int` (sizes, counts, settings).
    public mutating func readCount(_ what: String, maxBytes: Int = 8, limit: Int = Int(Int32.max)) throws -> Int {
        let start = offset
        let value = try readInteger(what, maxBytes: maxBytes)
        guard value >= 0, value <= Int64(limit) else {
            offset = start
            throw invalid(what, found: "\(value)")
        }
        return Int(value)
    }

    /// Reads an integer that must equal `expected` (versions, fixed settings).
    public mutating func expectInteger(_ expected: Int64, _ what: String) throws {
        let start = offset
        let value = try readInteger(what)
        if value != expected {
            offset = start
            throw invalid("\(what) = \(expected)", found: "\(value)")
        }
    }

    /// Reads a float or double in dlib's mantissa/exponent encoding, as `Double` (exact for both).
    public mutating func readDouble(_ what: String = "a floating-point number") throws -> Double {
        let start = offset
        if let first = peekByte(), first & 0x70 != 0 {
            throw invalid(what, found: "dlib's obsolete ASCII float format (byte 0x\(String(first, radix: 16)))")
        }
        let mantissa = try readInteger(what + " (mantissa)", maxBytes: 8)
        let exponent = try readInteger(what + " (exponent)", maxBytes: 2)
        switch exponent {
        case 32000: return .infinity
        case 32001: return -.infinity
        case 32002: return .nan
        case ...Int64(Int16.max):
            return Double(sign: .plus, exponent: Int(exponent), significand: Double(mantissa))
        default:
            offset = start
            throw invalid(what, found: "exponent \(exponent)")
        }
    }

    /// Reads a `float` (same encoding as double, rounded to `Float`).
    public mutating func readFloat(_ what: String = "a float") throws -> Float {
        Float(try readDouble(what))
    }

    /// Reads a bool (`'1'` or `'0'`).
    public mutating func readBool(_ what: String = "a bool") throws -> Bool {
        let start = offset
        switch try byte(what) {
        case UInt8(ascii: "1"): return true
        case UInt8(ascii: "0"): return false
        case let other:
            offset = start
            throw invalid(what + " ('0' or '1')", found: String(format: "byte 0x%02x", other))
        }
    }

    /// Reads a `std::string`.
    public mutating func readString(_ what: String = "a string", maxLength: Int = 1 << 16) throws -> String {
        let start = offset
        let length = try readCount(what + " length", limit: maxLength)
        guard length <= remainingCount else {
            throw DlibFormatError.unexpectedEnd(path: path, offset: bytes.count, expected: what)
        }
        let slice = bytes[offset..<(offset + length)]
        guard let text = String(bytes: slice, encoding: .utf8) else {
            offset = start
            throw invalid(what, found: "bytes that are not text")
        }
        offset += length
        return text
    }

    /// Reads a string that must be one of `allowed`; returns it.
    @discardableResult
    public mutating func expectString(_ allowed: [String], _ what: String) throws -> String {
        let start = offset
        let text = try readString(what)
        guard allowed.contains(text) else {
            offset = start
            let list = allowed.map { "\"\($0)\"" }.joined(separator: " or ")
            throw invalid("\(what) \(list)", found: "\"\(text.prefix(40))\"")
        }
        return text
    }

    /// True when the next bytes look like a string from `candidates` (no bytes consumed).
    public func nextIsString(in candidates: Set<String>) -> Bool {
        var probe = self
        guard let text = try? probe.readString("a probe", maxLength: 64) else { return false }
        return candidates.contains(text)
    }

    // MARK: - Containers

    /// Reads a `dlib::matrix` header (`-rows`, `-columns`) and returns `(rows, columns)`.
    public mutating func readMatrixShape(_ what: String) throws -> (rows: Int, columns: Int) {
        let start = offset
        let rows = try readInteger(what + " rows")
        let columns = try readInteger(what + " columns")
        guard rows <= 0, columns <= 0, -rows <= Int64(Int32.max), -columns <= Int64(Int32.max) else {
            offset = start
            throw invalid(what + " (new-format matrix, negative sizes)", found: "rows \(rows), columns \(columns)")
        }
        return (Int(-rows), Int(-columns))
    }

    /// Reads a `dlib::matrix<double or float>`; values row-major.
    public mutating func readMatrix(_ what: String) throws -> (rows: Int, columns: Int, values: [Double]) {
        let (rows, columns) = try readMatrixShape(what)
        guard rows * columns <= remainingCount / 2 else {
            throw DlibFormatError.unexpectedEnd(path: path, offset: bytes.count, expected: "\(rows)x\(columns) \(what)")
        }
        var values = [Double]()
        values.reserveCapacity(rows * columns)
        for _ in 0..<(rows * columns) { values.append(try readDouble(what + " element")) }
        return (rows, columns, values)
    }

    /// Reads a `std::vector` / `dlib::array` count, checked against the bytes left (each element
    /// takes at least `minimumElementBytes`).
    public mutating func readVectorCount(_ what: String, minimumElementBytes: Int = 1) throws -> Int {
        let count = try readCount(what + " count")
        guard count * minimumElementBytes <= remainingCount else {
            throw DlibFormatError.unexpectedEnd(path: path, offset: bytes.count, expected: "\(count) elements of \(what)")
        }
        return count
    }

    /// Reads a `resizable_tensor`: version 2, shape `(n, k, nr, nc)`, raw float32 little-endian values.
    public mutating func readTensor(_ what: String) throws -> DlibTensor {
        try expectInteger(2, what + " version")
        let shape = try (0..<4).map { _ in try readCount(what + " dimension") }
        let count = shape.reduce(1, *)
        guard count * 4 <= remainingCount else {
            throw DlibFormatError.unexpectedEnd(path: path, offset: bytes.count,
                                                expected: "\(count) float32 values of \(what)")
        }
        var values = [Float](repeating: 0, count: count)
        values.withUnsafeMutableBytes { raw in
            bytes.withUnsafeBytes { src in
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + count * 4)]))
            }
        }
        #if _endian(big)
        values = values.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
        #endif
        offset += count * 4
        return DlibTensor(shape: shape, values: values)
    }

    /// Reads an `alias_tensor` (version 1 and a shape `(n, k, nr, nc)`, no data).
    public mutating func readAliasShape(_ what: String) throws -> [Int] {
        try expectInteger(1, what + " version")
        return try (0..<4).map { _ in try readCount(what + " dimension") }
    }
}

/// A float32 tensor from a dlib file.
///
/// Layout: `shape = [n, k, nr, nc]` (samples, channels, rows, columns) and `values` row-major over that
/// shape, i.e. element `(s, c, r, x)` is `values[((s * k + c) * nr + r) * nc + x]`.
public struct DlibTensor: Sendable, Equatable {
    /// `[n, k, nr, nc]`.
    public var shape: [Int]
    /// `n * k * nr * nc` values, NCHW row-major.
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape \(shape) does not match \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// True for the empty `0x0x0x0` tensors dlib writes for gradients and caches.
    public var isEmpty: Bool { values.isEmpty }
}
