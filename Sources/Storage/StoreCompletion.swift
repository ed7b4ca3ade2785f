// The one bridge from a backend's completion-style calls (`submit`, `addCounters`, maintenance) to async callers:
// tests, tools and benchmarks await a commit instead of passing a completion.

/// Waits for a completion-style storage call. `start` hands the completion to the backend, which runs it once; a
/// call refused at once (`start` throws) is that error, and then no completion runs.
package func awaitStoreCompletion<Value: Sendable>(
    _ start: (@escaping @Sendable (Result<Value, StoreError>) -> Void) throws(StoreError) -> Void
) async throws(StoreError) -> Value {
    let result = await withCheckedContinuation {
        (continuation: CheckedContinuation<Result<Value, StoreError>, Never>) in
        do throws(StoreError) {
            try start { continuation.resume(returning: $0) }
        } catch {
            continuation.resume(returning: .failure(error))
        }
    }
    return try result.get()
}
