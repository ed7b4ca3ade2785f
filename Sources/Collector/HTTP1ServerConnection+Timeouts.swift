// The HTTP/1.1 connection's timers: the header deadline, the body deadline and the idle timeout's bookkeeping.
//
// Both deadlines are totals, armed once and never moved by the bytes that arrive: a slowloris client that sends one
// byte every few seconds gets 408 when the deadline passes, however many bytes it trickled. The header deadline runs
// from the connection's opening for its first request (the sniffer's time counts) and from a later request's first
// byte; between keep-alive requests only the idle timeout applies. The body deadline runs from the end of the head.

import CollectorService
import EventIO
import HTTP1

extension HTTP1ServerConnection {
    /// Arms the header deadline `delay` from now.
    func armHeaderTimer(_ connection: any ByteTransport, after delay: Duration? = nil) {
        cancelHeaderTimer(connection)
        let delay = delay ?? .milliseconds(context.configuration.headerTimeoutMs)
        headerTimer = connection.loop.schedule(after: delay) { [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            headerTimer = nil
            headerTimedOut(on: connection)
        }
    }

    /// No complete request head in time: 408 and close (unless a request is already being answered).
    func headerTimedOut(on connection: any ByteTransport) {
        guard head == nil, !isAwaitingResponse, !isClosing else { return }
        context.protection.timedOut(.header)
        context.logThrottle.log("header-timeout") { suppressed in
            context.log.info("""
                408 to \(connection.remoteAddress?.ipAddress ?? "?"): no complete request head within \
                \(context.configuration.headerTimeoutMs) ms\(suppressed.suppressedSuffix)
                """)
        }
        refuse(status: .requestTimeout,
               RESTError(408, "request_timeout",
                         "no complete request head within \(context.configuration.headerTimeoutMs) ms"),
               bytes: parser.messageBytes, on: connection)
    }

    func armHeaderTimerIfRequestStarted(_ connection: any ByteTransport) {
        // Between keep-alive requests only the idle timeout applies; the header timer starts with a request's
        // first byte (see didReceive).
        cancelHeaderTimer(connection)
    }

    func cancelHeaderTimer(_ connection: any ByteTransport) {
        if let timer = headerTimer {
            connection.loop.cancel(timer)
            headerTimer = nil
        }
    }

    /// Arms the body deadline when a request head arrives.
    func armRequestTimer(_ connection: any ByteTransport) {
        cancelRequestTimer(connection)
        requestTimer = connection.loop.schedule(after: .milliseconds(context.configuration.requestTimeoutMs)) {
            [weak self, weak connection] in
            guard let self, let connection, !connection.isClosed else { return }
            requestTimer = nil
            requestTimedOut(on: connection)
        }
    }

    /// The body did not arrive in time: 408 and close (unless the request is already being answered).
    func requestTimedOut(on connection: any ByteTransport) {
        guard head != nil, !isAwaitingResponse, !isClosing else { return }
        context.protection.timedOut(.request)
        let message = "request body not complete within \(context.configuration.requestTimeoutMs) ms"
        context.logThrottle.log("request-timeout") { suppressed in
            let peer = connection.remoteAddress?.ipAddress ?? "?"
            context.log.info("408 to \(peer): \(message)\(suppressed.suppressedSuffix)")
        }
        refuse(status: .requestTimeout, RESTError(408, "request_timeout", message), bytes: parser.messageBytes,
               on: connection)
    }

    func cancelRequestTimer(_ connection: any ByteTransport) {
        if let timer = requestTimer {
            connection.loop.cancel(timer)
            requestTimer = nil
        }
    }

    /// No traffic either way for the idle timeout: close (counted for /metrics).
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {
        context.protection.timedOut(.idle)
        connection.close()
    }
}
