// Limits on HTTP/2 request streams that are still receiving: how long they may go quiet, and how many bytes of
// incomplete requests they may hold.
//
// Idle streams: a request stream whose client has not ended it (no END_STREAM) and sends no byte for
// `streamIdleTimeoutMs` is answered (gRPC UNAVAILABLE, REST 408) and reset, so an Upload left open with nothing
// sent, or half a message, does not hold its stream slot, its call and its buffer for ever while the connection is
// kept alive by other traffic. One timer per connection does it: armed at the earliest deadline among the receiving
// streams, it answers the expired ones and re-arms itself. Streams waiting for the store are not receiving and never
// expire here. Held bytes: what a stream holds of a request it has not finished (a gRPC message split across reads,
// a REST body) is reserved first in this connection's share (`maxBufferedBytesPerConnection`, RESOURCE_EXHAUSTED /
// 413 past it) and in the process-wide RequestBufferBudget (UNAVAILABLE / 503 past it); it is released when the
// message completes, the stream is answered or reset, or the connection closes.

import CollectorService
import EventIO

extension HTTP2ServerConnection {
    /// Sets what stream `id` holds of its unfinished request to `bytes`. Returns the shortage when that is more
    /// than this connection or the process may hold: nothing is then held for the stream, and the stream refuses
    /// its request.
    func hold(_ bytes: Int, on id: Int32) -> HeldRequestBytes.Shortage? {
        let share = context.configuration.maxBufferedBytesPerConnection
        guard let shortage = held.update(id, to: bytes, perConnectionLimit: share, budget: context.requestBuffers)
        else { return nil }
        held.release(id, budget: context.requestBuffers)
        return shortage
    }

    /// A REST request is not run while this connection's earlier responses wait unread beyond
    /// `maxUnreadResponseBytes` (503 instead): a client that asks for large answers on many streams and reads none
    /// holds at most that much plus one response here, not one response per stream.
    func unreadResponsesRefusal() -> RESTError? {
        let unread = session.pendingBodyByteCount + (connection?.outboundByteCount ?? 0)
        guard unread > Self.maxUnreadResponseBytes else { return nil }
        return .unavailable("\(unread) bytes of earlier responses on this connection are still unread; read them first")
    }

    /// Makes sure the idle check runs while any request stream is still receiving.
    func watchStreamIdleness() {
        guard streamIdleTimer == nil, let loop = connection?.loop else { return }
        let timeout = Duration.milliseconds(context.configuration.streamIdleTimeoutMs)
        guard let earliest = receivingStreams().map(\.lastReceived).min() else { return }
        let delay = max(earliest + timeout - ContinuousClock.now, .milliseconds(1))
        streamIdleTimer = loop.schedule(after: delay) { [weak self] in
            guard let self else { return }
            streamIdleTimer = nil
            answerIdleStreams()
            watchStreamIdleness()
        }
    }

    /// Streams whose client is still sending, with when each last sent a byte.
    private func receivingStreams() -> [(id: Int32, lastReceived: ContinuousClock.Instant)] {
        streams.compactMap { id, stream in stream.idleSince.map { (id, $0) } }
    }

    /// Answers every receiving stream that has been quiet for the stream idle timeout.
    private func answerIdleStreams() {
        guard let connection, !connection.isClosed else { return }
        let timeoutMs = context.configuration.streamIdleTimeoutMs
        let cutoff = ContinuousClock.now - .milliseconds(timeoutMs)
        let message = "no request data on the stream for \(timeoutMs) ms"
        var expired = 0
        for (id, lastReceived) in receivingStreams() where lastReceived <= cutoff {
            expired += 1
            context.protection.timedOut(.streamIdle)
            streams[id]?.expireIdle(message)
        }
        guard expired > 0 else { return }
        context.logThrottle.log("stream-idle") { suppressed in
            context.log.info("""
                h2 connection from \(connection.remoteAddress?.ipAddress ?? "?"): \(expired) stream(s) answered \
                after \(timeoutMs) ms without request data\(suppressed.suppressedSuffix)
                """)
        }
        scheduleFlush()
    }
}
