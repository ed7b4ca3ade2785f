// One port for every protocol. The first byte 0x16 (a TLS handshake record) makes the connection TLS: it is wrapped
// in a `TLSTransport` and, once the handshake completes, a second sniffer decides inside it. Otherwise a connection
// whose first 24 bytes are the HTTP/2 client preface is h2c (prior knowledge, the way gRPC clients connect), and the
// first byte that differs from the preface makes it HTTP/1.1. Fewer than 24 matching bytes: wait (the header timeout
// still applies). Inside TLS, ALPN has usually agreed on h2 or http/1.1 already, and the client's first bytes agree.
//
// With TLS on and `--plaintext deny`, a plaintext connection gets a clear refusal instead (`PlaintextRefusal`).

import Accounting
import CollectorService
import EventIO
import HTTP2
import TLS

/// The first handler of every accepted connection (and of every TLS connection's plaintext): picks the protocol,
/// then hands the connection over.
final class ProtocolSniffer: ConnectionHandler, GracefulShutdown {
    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private static let tlsHandshakeRecord: UInt8 = 0x16
    private let context: CollectorContext
    private let directory: RegistryDirectory
    /// Inside TLS: the socket underneath, whose registry entry this sniffer replaces once the handshake is done.
    private weak var socket: (any ByteTransport)?
    private let isInsideTLS: Bool
    private var bytesRead = 0
    private var timer: TimerHandle?
    /// When the connection opened: the first request's header deadline counts from here.
    private var openedAt = ContinuousClock.now
    private weak var connection: (any ByteTransport)?

    init(context: CollectorContext, directory: RegistryDirectory, insideTLSOver socket: (any ByteTransport)? = nil) {
        self.context = context
        self.directory = directory
        self.socket = socket
        self.isInsideTLS = socket != nil
    }

    func connectionDidOpen(_ connection: any ByteTransport) {
        openedAt = ContinuousClock.now
        self.connection = connection
        // Registered from the start (the chosen handler replaces it), so open-connection counts and shutdown see a
        // connection whose protocol is not known yet.
        let registry = directory.registry(for: connection.loop)
        if let socket { registry.unregister(socket) }
        registry.register(self, connection)
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
        if !isInsideTLS, let tls = context.tls, input.first == Self.tlsHandshakeRecord {
            return wrapInTLS(connection, tls, input: input)
        }
        let compared = min(input.count, Self.preface.count)
        for i in 0..<compared where input[i] != Self.preface[i] {
            return handOver(connection, to: .http1, input: input)
        }
        guard compared == Self.preface.count else { return 0 }
        return handOver(connection, to: .http2, input: input)
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        if let timer { connection.loop.cancel(timer) }
        if isInsideTLS {
            // A TLS connection that closed before its inner protocol was known: a failed or abandoned handshake,
            // or a client silent after it. Its TLS bytes and segments are (`tls`, "") overhead.
            var sampler = LinkSampler()
            let (key, counters) = UndecidedConnection.tlsRow(
                bytesRead: bytesRead, link: sampler.totals(of: connection, final: true))
            context.ledger.add(key, counters)
            return
        }
        // Closed before the protocol was known: its bytes (a partial preface) are h2c connection overhead.
        var sampler = LinkSampler()
        let (key, counters) = UndecidedConnection.row(
            bytesRead: bytesRead, link: sampler.totals(of: connection, final: true))
        context.ledger.add(key, counters)
    }

    /// Shutdown before the protocol is known: no request has started, so the connection just closes.
    func beginShutdown() {
        connection?.close()
    }

    private enum Kind { case http1, http2 }

    /// A ClientHello: the connection continues as TLS, with a sniffer inside; over the handshake limit it closes.
    private func wrapInTLS(_ connection: any ByteTransport, _ tls: CollectorTLS, input: UnsafeRawBufferPointer) -> Int {
        if let timer { connection.loop.cancel(timer) }
        timer = nil
        // Refused connections close undecided: `didCloseWith` books their bytes.
        guard tls.beginHandshake() else {
            context.protection.tlsHandshake(.refusedBusy)
            connection.close()
            return input.count
        }
        let transport: TLSTransport
        do {
            transport = try TLSTransport(server: connection, context: tls.context)
        } catch {
            tls.endHandshake()
            context.protection.tlsHandshake(.failed)
            connection.close()
            return input.count
        }
        let context = self.context
        transport.onHandshakeEnd = { transport in
            tls.endHandshake()
            context.recordHandshakeEnd(of: transport)
        }
        transport.handler = ProtocolSniffer(context: context, directory: directory, insideTLSOver: connection)
        return transport.start(
            handshakeTimeout: .milliseconds(tls.settings.handshakeTimeoutMs), input: input, alreadyRead: bytesRead)
    }

    @discardableResult
    private func handOver(_ connection: any ByteTransport, to kind: Kind, input: UnsafeRawBufferPointer) -> Int {
        if let timer { connection.loop.cancel(timer) }
        timer = nil
        if !isInsideTLS && context.tls != nil && context.configuration.plaintext == .deny {
            return PlaintextRefusal.refuse(
                connection, asHTTP2: kind == .http2, bytesRead: bytesRead, input: input, context: context)
        }
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
