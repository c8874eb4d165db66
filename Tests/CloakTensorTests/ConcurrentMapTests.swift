import Foundation
import Testing
import CloakTensor

@Suite("Running work on all cores")
struct ConcurrentMapTests {
    @Test func resultsComeBackInIndexOrderEachComputedOnce() {
        let calls = Counter()
        let squares = concurrentMap(count: 1000) { i -> Int in
            calls.increment()
            return i * i
        }
        #expect(squares == (0..<1000).map { $0 * $0 })
        #expect(calls.value == 1000)
        #expect(concurrentMap(count: 0) { $0 }.isEmpty)
        #expect(concurrentMap(count: 1) { $0 + 7 } == [7])
    }

    @Test func errorsStayWithTheirIndex() {
        struct Odd: Error { let i: Int }
        let outcomes = concurrentMap(count: 64) { i in Result<Int, Odd> { () throws(Odd) -> Int in if i % 2 == 1 { throw Odd(i: i) }; return i } }
        for (i, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let v): #expect(i % 2 == 0 && v == i)
            case .failure(let e): #expect(i % 2 == 1 && e.i == i)
            }
        }
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
