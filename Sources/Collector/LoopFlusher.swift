// Output and ledger rows leave once per loop iteration, from the loop's before-sleep hook (Redis's beforeSleep is
// the model: it writes the replies of the whole iteration just before the loop waits again).
//
// Rule: a connection that did something that may have produced output or settled ledger rows (it handled input, a
// write was reported, the store completed its work, a timer answered a stream, shutdown began) marks itself here;
// the hook then calls `flushPending()` once on every marked connection, which pulls its output into the socket and
// posts its rows to the collector's ledger. The hook runs before every epoll_wait, so no output waits past the
// iteration that produced it, and a connection that had ten events in one iteration is flushed once. A flush may
// mark again (a write reports bytes written); the hook drains until nothing is marked. Paths that close a
// connection at once (a session error, the peer's FIN, the idle timeout) flush it themselves first: after the close
// there is no socket left for the hook to write to.

import EventIO

/// The connections of one loop marked since its last before-sleep hook, flushed by that hook (see the file
/// comment). Used only on its loop's thread.
final class LoopFlusher {
    private var marked: [any LoopFlushable] = []
    private var markedIDs: Set<ObjectIdentifier> = []
    /// The batch being flushed; swapped with `marked` so neither buffer is reallocated per iteration.
    private var flushing: [any LoopFlushable] = []

    /// A flusher for `loop`; installs its before-sleep hook (call on the loop's thread). The hook keeps it alive
    /// as long as the loop runs.
    init(loop: EventLoop) {
        loop.addBeforeSleepHook { [self] in drain() }
    }

    /// Marks `connection` for this iteration's flush; a connection already marked is flushed once.
    func mark(_ connection: any LoopFlushable) {
        guard markedIDs.insert(ObjectIdentifier(connection)).inserted else { return }
        marked.append(connection)
    }

    /// Flushes every marked connection, in the order they were marked, until none is marked.
    func drain() {
        while !marked.isEmpty {
            // The batch moves to the spare buffer and `marked` gets the spare's empty storage, so nothing is copied
            // or allocated per iteration; a flush may mark again (into `marked`), and the loop takes that next.
            swap(&marked, &flushing)
            // Up to 1,024 connections keep their storage; a burst (thousands of connections opening in one
            // iteration) does not leave it behind for the loop's lifetime.
            let keepsCapacity = flushing.count <= 1024
            markedIDs.removeAll(keepingCapacity: keepsCapacity)
            for connection in flushing { connection.flushPending() }
            flushing.removeAll(keepingCapacity: keepsCapacity)
        }
    }
}
