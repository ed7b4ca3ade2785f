// One port for both protocols: a connection whose first 24 bytes are the HTTP/2 client preface is h2c (prior
// knowledge, the way gRPC clients connect); the first byte that differs from the preface makes it HTTP/1.1.
// Fewer than 24 matching bytes: wait (the header timeout still applies).

import Accounting
import CollectorService
import EventIO
import HTTP2

/// The first handler of every accepted connection: picks the protocol, then hands the connection over.
final class ProtocolSniffer: ConnectionHandler, GracefulShutdown {
    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private let context: CollectorContext
    private let directory: RegistryDirectory
    private var bytesRead = 0
    private var timer: TimerHandle?
    /// When the connection opened: the first request's header deadline counts from here.
    private var openedAt = ContinuousClock.now
    private weak var connection: (any ByteTransport)?

    init(context: CollectorContext, directory: RegistryDirectory) {
        self.context = context
        self.directory = directory
    }

    func connectionDidOpen(_ connection: any ByteTransport) {
        openedAt = ContinuousClock.now
        self.connection = connection
        // Registered from the start (the chosen handler replaces it), so open-connection counts and shutdown see a
        // connection whose protocol is not known yet.
        directory.registry(for: connection.loop).register(self, connection)
        // Until the protocol is known, the header timeout bounds how long a silent client holds the connection.
        timer = connection.loop.schedule(after: .milliseconds(context.configuration.headerTimeoutMs)) {
            [weak self, weak connection] in
            guard let self, let connection, connection.handler === self else { return }
            timer = nil
            handOver(connection, to: .http1, input: UnsafeRawBufferPointer(start: nil, count: 0))
            (connection.handler as? HTTP1ServerConnection)?.headerTimedOut(on: connection)
        }
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) {
        bytesRead += byteCount
    }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        let compared = min(input.count, Self.preface.count)
        for i in 0..<compared where input[i] != Self.preface[i] {
            return handOver(connection, to: .http1, input: input)
        }
        guard compared == Self.preface.count else { return 0 }
        return handOver(connection, to: .http2, input: input)
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        // Closed before the protocol was known: its bytes (a partial preface) are h2c connection overhead.
        if let timer { connection.loop.cancel(timer) }
        let (key, counters) = UndecidedConnection.row(bytesRead: bytesRead)
        context.ledger.add(key, counters)
    }

    /// Shutdown before the protocol is known: no request has started, so the connection just closes.
    func beginShutdown() {
        connection?.close()
    }

    private enum Kind { case http1, http2 }

    @discardableResult
    private func handOver(_ connection: any ByteTransport, to kind: Kind, input: UnsafeRawBufferPointer) -> Int {
        if let timer { connection.loop.cancel(timer) }
        timer = nil
        switch kind {
        case .http1:
            let handler = HTTP1ServerConnection(context: context, flusher: directory.flusher(for: connection.loop))
            connection.handler = handler
            directory.registry(for: connection.loop).register(handler, connection)
            let deadline = openedAt + .milliseconds(context.configuration.headerTimeoutMs)
            let remaining = max(deadline - ContinuousClock.now, .milliseconds(1))
            handler.start(on: connection, bytesRead: bytesRead, headerTimeRemaining: remaining)
            return input.isEmpty ? 0 : handler.connection(connection, didReceive: input)
        case .http2:
            let handler = HTTP2ServerConnection(context: context, flusher: directory.flusher(for: connection.loop))
            connection.handler = handler
            directory.registry(for: connection.loop).register(handler, connection)
            handler.start(on: connection, bytesRead: bytesRead)
            return handler.connection(connection, didReceive: input)
        }
    }
}
