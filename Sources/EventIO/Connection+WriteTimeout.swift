// The write timeout: a connection whose output waits without progress for too long is closed.
//
// Rule: from the moment output starts waiting (the kernel refused part of a write, or bytes were enqueued), every
// send(2) that takes at least one byte restarts the clock; when the clock reaches `writeTimeout` with bytes still
// waiting, the connection closes with `.writeTimedOut`. Reads never restart it: a client that floods requests but
// never reads the answers is exactly what this catches. Like the idle timer, one loop timer is moved lazily: progress
// only stamps `lastWriteProgress`, and the timer re-arms itself at the stamped deadline when it fires early.

extension Connection {
    /// Output just started waiting for EPOLLOUT (called from `updateInterest` on that transition).
    func outputStartedWaiting() {
        lastWriteProgress = core.now
        guard writeTimeoutNanoseconds > 0, writeTimer == nil, lifecycle.phase == .open else { return }
        armWriteTimer(at: lastWriteProgress &+ writeTimeoutNanoseconds)
    }

    /// Arms the write timer for `deadline`; when it fires it stops (output drained), re-arms (progress meanwhile) or
    /// closes the connection.
    func armWriteTimer(at deadline: UInt64) {
        writeTimer = core.schedule(at: deadline) { [self] in
            writeTimer = nil
            guard !isClosed, outboundByteCount > 0, writeTimeoutNanoseconds > 0 else { return }
            let deadline = lastWriteProgress &+ writeTimeoutNanoseconds
            if core.now < deadline {
                armWriteTimer(at: deadline)
                return
            }
            apply(lifecycle.close(.writeTimedOut))
        }
    }
}
