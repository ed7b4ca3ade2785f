// `--plaintext deny`: a connection that did not start with a TLS ClientHello is answered with a refusal it can
// understand, then closed. HTTP/1.1 gets 426 Upgrade Required naming the problem; h2c gets SETTINGS and
// GOAWAY(INADEQUATE_SECURITY) with the same message as debug data. Its bytes are booked at close as overhead of
// its protocol (`rest-json` or `h2c`, device ""), counted as one connection and one error, and the refusal is
// counted in /metrics (`fleetwire_plaintext_refused_total`).

import Accounting
import EventIO
import HTTP1

/// Answers and closes one plaintext connection refused by `--plaintext deny`.
final class PlaintextRefusal: ConnectionHandler {
    static let message = "plaintext connections are refused by this collector (--plaintext deny): connect with TLS"
    private let context: CollectorContext
    private let protocolName: WireProtocol
    private var bytesRead: Int
    private var headerWritten = 0
    private var bodyWritten = 0
    private var headerQueued = 0

    private init(context: CollectorContext, protocolName: WireProtocol, bytesRead: Int) {
        self.context = context
        self.protocolName = protocolName
        self.bytesRead = bytesRead
    }

    /// Takes over `connection`, answers and closes it; returns the bytes of `input` consumed (all).
    static func refuse(
        _ connection: any ByteTransport, asHTTP2: Bool, bytesRead: Int, input: UnsafeRawBufferPointer,
        context: CollectorContext
    ) -> Int {
        context.protection.plaintextRefused()
        context.logThrottle.log("plaintext-refused") { suppressed in
            let peer = connection.remoteAddress.map { "\($0)" } ?? "?"
            context.log.notice(
                "refused a plaintext \(asHTTP2 ? "h2c" : "HTTP/1.1") connection from \(peer) (--plaintext deny)"
                    + suppressed.suppressedSuffix)
        }
        let handler = PlaintextRefusal(
            context: context, protocolName: asHTTP2 ? .h2c : .restJSON, bytesRead: bytesRead)
        connection.handler = handler
        let answer: [UInt8]
        if asHTTP2 {
            answer = goaway()
            handler.headerQueued = 0
        } else {
            var headers = HTTPHeaders()
            headers.append(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.append(name: "Upgrade", value: "TLS/1.3, TLS/1.2")
            let body = Array((message + "\n").utf8)
            answer = HTTPResponseSerializer.makeResponse(
                status: HTTPStatus(code: 426), headers: headers, body: body, isClosing: true)
            handler.headerQueued = answer.count - body.count
        }
        connection.write(answer)
        connection.closeLingering(timeout: .milliseconds(500))
        return input.count
    }

    /// An empty SETTINGS frame and GOAWAY(last stream 0, INADEQUATE_SECURITY, the message as debug data).
    private static func goaway() -> [UInt8] {
        let debug = Array(message.utf8)
        var frames: [UInt8] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0]
        let length = 8 + debug.count
        frames += [UInt8(length >> 16), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), 0x7, 0, 0, 0, 0, 0]
        frames += [0, 0, 0, 0, 0, 0, 0, 0x0c]
        frames += debug
        return frames
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) { bytesRead += byteCount }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int { input.count }

    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
        let header = min(byteCount, max(headerQueued - headerWritten, 0))
        headerWritten += header
        bodyWritten += byteCount - header
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        var sampler = LinkSampler()
        var counters = UndecidedConnection.linkCounters(sampler.totals(of: connection, final: true))
        counters.bytesIn = Traffic(.framing, Int64(bytesRead))
        counters.bytesOut =
            protocolName == .h2c
            ? Traffic(.framing, Int64(headerWritten + bodyWritten))
            : Traffic(header: Int64(headerWritten), payload: Int64(bodyWritten))
        counters.errors = 1
        context.ledger.add(.overhead(protocolName), counters)
    }
}
