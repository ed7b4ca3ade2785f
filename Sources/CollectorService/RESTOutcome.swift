import Accounting

/// What `RESTService.handle` returns, so the service needs no event loop: the answer itself when it is ready on the
/// caller's thread (no hop, which the latency of every synchronous endpoint depends on), or word that the store is
/// doing the work and the completion will run on the store's thread.
package enum RESTOutcome: Sendable {
    /// The response and the non-byte counters for the request's bandwidth row; the completion is never called.
    case response(RESTResponse, BandwidthCounters)
    /// The store is committing the batch or running the query: the completion runs exactly once, on another thread.
    case pending
}
