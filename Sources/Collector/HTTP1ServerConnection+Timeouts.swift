// The HTTP/1.1 connection's timers: the header and body deadlines' timers, their 408 answers, and the idle
// timeout's count.
//
// When each deadline runs is HTTP1ConnectionState's rule (its file's header): totals, armed once and never moved by
// arriving bytes; the header deadline from the connection's opening (first request) or a request's first byte, the
// body deadline from the end of the head. This file arms and cancels the timers the state machine asks for, reports
// their expiry back to it, and renders the 408s it decides on (logged with a throttle, counted for /metrics).

import CollectorService
import EventIO
import HTTP1

extension HTTP1ServerConnection {
    /// Arms the header deadline `delay` from now.
    func armHeaderTimer(_ connection: any ByteTransport, after delay: Duration) {
        cancelHeaderTimer(connection)
        headerTimer = connection.loop.schedule(after: delay) { [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            headerTimer = nil
            headerTimedOut(on: connection)
        }
    }

    /// The header deadline passed (the timer fired, or the sniffer's own deadline ran out before the protocol was
    /// known): 408 and close, unless a head arrived meanwhile.
    func headerTimedOut(on connection: any ByteTransport) {
        perform(state.headerDeadlineExpired(), on: connection)
    }

    /// The 408 for a missing head; counts and logs it.
    func headerTimeoutError(on connection: any ByteTransport) -> RESTError {
        context.protection.timedOut(.header)
        context.logThrottle.log("header-timeout") { suppressed in
            context.log.info("""
                408 to \(connection.remoteAddress?.ipAddress ?? "?"): no complete request head within \
                \(context.configuration.headerTimeoutMs) ms\(suppressed.suppressedSuffix)
                """)
        }
        return RESTError(408, "request_timeout",
                         "no complete request head within \(context.configuration.headerTimeoutMs) ms")
    }

    /// Disarms the header deadline.
    func cancelHeaderTimer(_ connection: any ByteTransport) {
        if let timer = headerTimer {
            connection.loop.cancel(timer)
            headerTimer = nil
        }
    }

    /// Arms the body deadline `delay` from now.
    func armBodyTimer(_ connection: any ByteTransport, after delay: Duration) {
        cancelBodyTimer(connection)
        bodyTimer = connection.loop.schedule(after: delay) { [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            bodyTimer = nil
            perform(state.bodyDeadlineExpired(), on: connection)
        }
    }

    /// The 408 for a body not complete in time; counts and logs it.
    func bodyTimeoutError(on connection: any ByteTransport) -> RESTError {
        context.protection.timedOut(.request)
        let message = "request body not complete within \(context.configuration.requestTimeoutMs) ms"
        context.logThrottle.log("request-timeout") { suppressed in
            let peer = connection.remoteAddress?.ipAddress ?? "?"
            context.log.info("408 to \(peer): \(message)\(suppressed.suppressedSuffix)")
        }
        return RESTError(408, "request_timeout", message)
    }

    /// Disarms the body deadline.
    func cancelBodyTimer(_ connection: any ByteTransport) {
        if let timer = bodyTimer {
            connection.loop.cancel(timer)
            bodyTimer = nil
        }
    }

    /// No traffic either way for the idle timeout: close (counted for /metrics).
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {
        context.protection.timedOut(.idle)
        perform(state.idleTimeoutExpired(), on: connection)
    }
}
