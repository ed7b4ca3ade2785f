import Synchronization

/// Carries a non-`Sendable` value (a SQLite connection and its statements) between threads, one user at a time.
///
/// This is the module's only `@unchecked Sendable`. It is sound because every access goes through
/// `withExclusiveAccess`, which claims the box with an atomic flag and traps if another thread is already inside:
/// the value is never touched by two threads at once, and the acquire/release ordering of the flag makes one
/// user's writes visible to the next. The writer thread holds its box for its whole life; the read pool lends each
/// connection's box to one query at a time.
final class ExclusiveBox<Value>: @unchecked Sendable {
    private var value: Value
    private let isInUse = Atomic<Bool>(false)

    /// Wraps `value`; from now on it is reached only through `withExclusiveAccess`.
    init(_ value: consuming Value) {
        self.value = value
    }

    /// Runs `body` with the value, trapping if another thread is using it at the same moment.
    func withExclusiveAccess<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let (claimed, _) = isInUse.compareExchange(expected: false, desired: true, ordering: .acquiring)
        precondition(claimed, "ExclusiveBox<\(Value.self)> used by two threads at once")
        defer { isInUse.store(false, ordering: .releasing) }
        return try body(&value)
    }
}
