// The memory a collector spends on requests it has not finished receiving, bounded across all connections.
//
// What counts: an HTTP/1.1 body being read (the parser accumulates it), an HTTP/2 REST body, and a gRPC message
// that straddles reads (the deframer buffers it; messages that arrive whole are decoded in place and never count).
// Once a request is complete its bytes are released: the decoded batch is then the store queue's, which has bounds
// of its own. Rule: a connection reserves bytes before holding them; a reservation that would pass the limit fails
// and the request is refused (503 with Retry-After, gRPC UNAVAILABLE) instead of buffered. So at any moment the
// bytes held for incomplete requests are at most `limit`, however many connections there are.

import Synchronization

/// The process-wide budget for partially received requests; see the file header.
final class RequestBufferBudget: Sendable {
    /// The most bytes held at once.
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Bytes held right now.
    var usedBytes: Int { used.load(ordering: .relaxed) }

    /// Reserves `bytes` more; false (and nothing reserved) when that would pass the limit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back `bytes` reserved earlier.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .relaxed)
    }
}
