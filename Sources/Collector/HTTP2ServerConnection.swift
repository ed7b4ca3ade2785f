// One h2c connection on the collector: nghttp2 pumped by the event loop, every byte scanned for attribution.
//
// Input: each chunk is scanned (frame headers → stream tallies in the HTTP2ConnectionLedger) and then fed to nghttp2
// whole; the session's events (HTTP2ServerConnection+Streams.swift) run the gRPC calls and REST requests. Output:
// what nghttp2 produces is scanned and its frame runs queued in the ledger, which books them only as send(2)
// reports them written. Output is pulled from nghttp2 only while the socket keeps up (outbound backpressure), and
// input is not read while more than `outboundHighWater` bytes wait unread, so a client that sends (PINGs, requests)
// without reading cannot grow our output; the write timeout closes it. Output and rows leave in the loop's
// before-sleep hook (LoopFlusher): every event that may produce either marks the connection, and the hook pulls
// the output and posts the rows once per iteration; everything left is booked at close. A flood
// (HTTP2FloodGuard) ends the connection with GOAWAY(ENHANCE_YOUR_CALM); stream deadlines and held request bytes are
// in HTTP2ServerConnection+StreamLimits.swift.

import Accounting
import CollectorService
import EventIO
import HTTP2

/// The collector's handler for an HTTP/2 (h2c, prior knowledge) connection.
final class HTTP2ServerConnection: ConnectionHandler, HTTP2SessionDelegate, GracefulShutdown, LoopFlushable {
    let context: CollectorContext
    /// Flushes this connection's output and posts its rows in the loop's before-sleep hook.
    private let flusher: LoopFlusher
    let service: RESTService
    var session: HTTP2Session!
    weak var connection: (any ByteTransport)?
    /// Each open stream's handler: a request stream, or `AnsweredServerStream` until the stream closes.
    var streams: [Int32: any ServerStreamHandler] = [:]
    var ledger = HTTP2ConnectionLedger()
    var isShuttingDown = false
    /// The protocol this connection is counted under in the open-connections gauge.
    var openProtocol: String?
    /// Partially received requests (gRPC messages, REST bodies) per stream, reserved in the process-wide budget.
    var held = HeldRequestBytes()
    /// Sync streams holding DATA back (GRPCServerStream): offered it again after each flush of the output.
    var streamsHoldingBack: Set<Int32> = []
    /// The one timer that checks request streams for idleness, while any is still receiving.
    var streamIdleTimer: TimerHandle?
    private var inboundScanner = HTTP2FrameScanner(expectsPreface: true)
    private var outboundScanner = HTTP2FrameScanner(expectsPreface: false)
    private var output: [UInt8] = []
    private var hasReportedFlood = false
    /// TLS bytes and TCP segments for the ledger.
    private var linkSampler = LinkSampler()
    /// Input was handled since the last flush: reading pauses after the flush if the client is behind.
    private var hasInputSinceFlush = false
    /// The client took all pending output since the last flush: reading resumes after it if the client keeps up.
    private var hasDrainedSinceFlush = false
    /// True while `flushPending` runs: the writes it makes are posted by that same call.
    private var isFlushingPending = false
    /// Output pulled from nghttp2 stops while this much is waiting in the socket buffer.
    static let outboundHighWater = 256 << 10
    /// REST requests are refused (503) while earlier responses hold more than this unread (see
    /// `unreadResponsesRefusal`).
    static let maxUnreadResponseBytes = 1 << 20

    init(context: CollectorContext, flusher: LoopFlusher) {
        self.context = context
        self.flusher = flusher
        self.service = context.restService
        self.session = nil
        self.session = HTTP2Session(role: .server, settings: context.configuration.http2, delegate: self)
    }

    /// Takes over from the sniffer, which already counted `bytesRead` bytes read.
    func start(on connection: any ByteTransport, bytesRead: Int) {
        self.connection = connection
        ledger.read(bytesRead)
        connection.idleTimeout = .milliseconds(context.configuration.idleTimeoutMs)
        connection.writeTimeout = .milliseconds(context.configuration.writeTimeoutMs)
        scheduleFlush()
    }

    // MARK: Input

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) {
        ledger.read(byteCount)
    }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        inboundScanner.scan(input) { ledger.received($0.streamByteRun) }
        do {
            try session.receive(input)
        } catch {
            if !noteFlood(connection) {
                let peer = connection.remoteAddress?.description ?? "?"
                context.log.warning("h2 connection from \(peer) failed: \(error)")
            }
            flush()
            connection.closeLingering()
            return input.count
        }
        noteFlood(connection)
        hasInputSinceFlush = true
        scheduleFlush()
        return input.count
    }

    /// Counts and logs (throttled) a flood the session detected, once; returns whether there was one.
    @discardableResult
    private func noteFlood(_ connection: any ByteTransport) -> Bool {
        guard let flood = session.flood else { return false }
        guard !hasReportedFlood else { return true }
        hasReportedFlood = true
        context.protection.flood(flood.rawValue)
        context.logThrottle.log("h2-flood-\(flood.rawValue)") { suppressed in
            context.log.warning("""
                h2 connection from \(connection.remoteAddress?.ipAddress ?? "?") closed with \
                GOAWAY(ENHANCE_YOUR_CALM): \(flood.description)\(suppressed.suppressedSuffix)
                """)
        }
        return true
    }

    // MARK: Output

    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
        ledger.written(byteCount)
        if !isFlushingPending { scheduleFlush() }
    }

    func connectionDidDrain(_ connection: any ByteTransport) {
        hasDrainedSinceFlush = true
        scheduleFlush()
    }

    /// Marks the connection for the loop's before-sleep flush (output pulled, rows posted, once per iteration).
    func scheduleFlush() {
        flusher.mark(self)
    }

    /// The before-sleep flush: pulls output into the socket, then applies input backpressure (pause after input
    /// while `outboundHighWater` bytes wait unread; resume once the client drained them), then posts the rows.
    func flushPending() {
        isFlushingPending = true
        defer { isFlushingPending = false }
        for stream in streams.values { stream.willFlush() }
        flush()
        for id in streamsHoldingBack { (streams[id] as? GRPCServerStream)?.takeHeldBack() }
        if let connection, !connection.isClosed {
            if hasDrainedSinceFlush && connection.isReadingPaused
                && connection.outboundByteCount < Self.outboundHighWater
            {
                connection.resumeReading()
            }
            if hasInputSinceFlush && connection.outboundByteCount >= Self.outboundHighWater {
                connection.pauseReading()
            }
        }
        hasInputSinceFlush = false
        hasDrainedSinceFlush = false
        postRows()
    }

    /// Pulls frames from nghttp2 into the socket while the socket keeps up; closes once both sides are done. Called
    /// by `flushPending`, and directly only right before the connection closes.
    private func flush() {
        guard let connection, !connection.isClosed else { return }
        while connection.outboundByteCount < Self.outboundHighWater {
            output.removeAll(keepingCapacity: true)
            do {
                try session.drainOutput(into: &output, limit: 64 << 10)
            } catch {
                context.log.warning("h2 session error: \(error)")
                connection.close()
                return
            }
            if output.isEmpty { break }
            output.withUnsafeBytes { bytes in
                outboundScanner.scan(bytes) { ledger.queue($0.streamByteRun) }
            }
            connection.write(output)
        }
        if session.isFinished || (isShuttingDown && streams.isEmpty && !session.wantsWrite) {
            connection.closeLingering()
        }
    }

    /// Moves finished attributions from this connection to the collector's ledger.
    private func postRows() {
        if let connection { ledger.link(linkSampler.totals(of: connection, final: false)) }
        ledger.drain { key, counters in context.ledger.add(key, counters) }
    }

    /// Counts the connection in the open-connections gauge under its first identified stream's protocol (the
    /// ledger counts it once in the bandwidth report, under that stream's row).
    func countConnection(under key: BandwidthKey) {
        guard openProtocol == nil else { return }
        openProtocol = key.protocolName
        context.operations.connectionOpened(key.protocolName)
    }

    // MARK: Lifecycle

    func connectionInputDidEnd(_ connection: any ByteTransport) {
        for (id, stream) in streams { stream.cancel(); streams[id] = nil }
        flush()
        connection.closeLingering()
    }

    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {
        context.protection.timedOut(.idle)
        session.submitGoaway(errorCode: HTTP2ErrorCode.noError, debug: "idle timeout")
        isShuttingDown = true
        flush()
        connection.closeLingering()
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        for (_, stream) in streams { stream.cancel() }
        streams = [:]
        held.releaseAll(budget: context.requestBuffers)
        if let streamIdleTimer { connection.loop.cancel(streamIdleTimer) }
        streamIdleTimer = nil
        if reason == .writeTimedOut { context.protection.timedOut(.write) }
        // Bytes read but never scanned (discarded by a lingering close) are connection-level, like the frames of
        // streams that never got identified; so is the count of a connection that never identified a stream.
        if let openProtocol { context.operations.connectionClosed(openProtocol) }
        ledger.link(linkSampler.totals(of: connection, final: true))
        ledger.close { key, counters in context.ledger.add(key, counters) }
        session.delegate = nil
    }

    /// Graceful shutdown: GOAWAY naming the last stream processed; in-flight streams finish, then the connection
    /// closes.
    func beginShutdown() {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        session.submitGoaway(errorCode: HTTP2ErrorCode.noError, debug: "shutting down")
        for stream in streams.values { stream.connectionWillShutDown() }
        scheduleFlush()
    }
}
