import Dispatch

/// `body(0) ... body(count - 1)` run on all cores (`DispatchQueue.concurrentPerform`), results in index order.
///
/// `body` must touch no shared mutable state: each call may read what it captures and write only what it
/// returns (and files of its own). The compiler cannot check that for a closure capturing non-`Sendable`
/// values (a store handle, a loaded data set), so the caller vouches for it; the results are handed back only
/// after every call has finished.
public func concurrentMap<T>(count: Int, _ body: (Int) -> T) -> [T] {
    guard count > 1 else { return (0..<count).map(body) }
    let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer {
        _ = results.deinitialize()
        results.deallocate()
    }
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(value: (body: body, results: results))
        DispatchQueue.concurrentPerform(iterations: count) { i in
            shared.value.results[i] = shared.value.body(i)
        }
    }
    return results.map { $0! }
}

/// A value handed to concurrently running code whose safety the caller has checked (see ``concurrentMap(count:_:)``).
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
