// Connection: one non-blocking TCP socket on one loop, driven by its ConnectionHandler.
//
// Memory: an idle connection is this object and its descriptor. Input is read into the loop's shared buffer and
// only the bytes the handler left unconsumed are copied out; output is sent straight from the caller's bytes and only
// what the kernel refused is copied into `outbound`, which is released again once it drains.
// Counting: `bytesRead` / `bytesWritten` add up every read(2) / send(2) result, and each one is also reported to
// the handler (`didRead` / `didWrite`), so bandwidth can be attributed to the byte, and added to the listener's
// `TransportByteTotals`, the reference the attribution is checked against.
// Readiness: EPOLLIN while the connection wants input (not paused, not ended); EPOLLOUT only while connecting or
// while `outbound` holds bytes.
// Timeouts: the idle timeout (no byte either way) and the write timeout (output waiting, no send progress), see
// Connection+WriteTimeout.swift. The lifecycle rules (half-close, lingering close, close reasons) live in
// ConnectionLifecycle; this type performs the actions it returns.

/// One TCP connection, owned by its loop's thread; see the file header for memory, counting and readiness rules.
public final class Connection: ByteTransport {
    /// The most input a handler may leave unconsumed: the size of the loop's read buffer. A handler that needs to
    /// hold more (a large message body) copies it into its own storage and consumes it.
    public static let maxUnconsumedByteCount = LoopCore.readBufferSize

    /// The loop whose thread owns this connection; use it to schedule timers or to come back from another thread.
    public let loop: EventLoop
    /// The loop-owned state (selector, timers, read buffer); same thread, so no check per access.
    let core: LoopCore
    /// The socket; closed exactly once, in `finishClose`.
    let fd: Int32
    /// Where the socket is registered in the loop's selector.
    var token = SelectorToken(slot: 0, generation: 0)
    /// What epoll currently watches for; compared before every epoll_ctl.
    var interest: IOInterest = []
    /// The state machine that decides what every event means (see ConnectionLifecycle).
    var lifecycle: ConnectionLifecycle
    /// True while the descriptor is out of epoll because it hung up while input was paused (see `handle`).
    var isParked = false
    /// True while leftovers must be offered again after `resumeReading()`.
    var needsRedelivery = false
    /// Bytes the handler did not consume yet; empty (no allocation) almost always.
    var unconsumed: [UInt8] = []
    /// Bytes accepted by `write` that the kernel has not taken yet, from `outboundStart` on.
    var outbound: [UInt8] = []
    /// Offset in `outbound` of the first byte not sent yet.
    var outboundStart = 0
    /// Bounds the discard phase of a lingering close.
    var lingerTimer: TimerHandle?
    /// The lingering close's timeout, kept from `closeLingering` until the drain starts the timer.
    var lingerMilliseconds: UInt32 = 2000
    /// The one pending idle-timeout timer, if an idle timeout is set.
    var idleTimer: TimerHandle?
    /// The idle timeout; 0 when disabled.
    var idleNanoseconds: UInt64 = 0
    /// Loop time of the last byte read or written.
    var lastActivity: UInt64 = 0
    /// The pending write-timeout timer, while output is waiting and a write timeout is set.
    var writeTimer: TimerHandle?
    /// The write timeout; 0 when disabled.
    var writeTimeoutNanoseconds: UInt64 = 0
    /// Loop time of the last send(2) progress, or of the moment output started waiting.
    var lastWriteProgress: UInt64 = 0
    /// The slot this connection holds in its listener's `ConnectionLimiter`, given back at close.
    var admission: ConnectionAdmission?
    /// Where every read(2) and send(2) result is also added (the listener's totals), when anywhere.
    var byteTotals: TransportByteTotals?
    /// The socket's segment counts read just before it closed.
    var finalSegmentCounts: SegmentCounts?

    /// The protocol engine driving this connection. Replaceable at any time (a sniffer hands the connection to the
    /// handler of the protocol it detected); nil after `didCloseWith`, and setting it then is ignored, so a
    /// handler that holds its connection cannot form a cycle with a closed one.
    public var handler: (any ConnectionHandler)? {
        didSet { if isClosed && handler != nil { handler = nil } }
    }
    /// Every byte read from the socket, including bytes a lingering close discarded.
    public internal(set) var bytesRead: UInt64 = 0
    /// Every byte the kernel accepted from `write`.
    public internal(set) var bytesWritten: UInt64 = 0

    /// Wraps a socket the loop just accepted or started connecting; `EventLoop` registers it.
    init(loop: EventLoop, core: LoopCore, fd: Int32, connecting: Bool, handler: any ConnectionHandler) {
        self.loop = loop
        self.core = core
        self.fd = fd
        self.lifecycle = ConnectionLifecycle(connecting: connecting)
        self.handler = handler
        self.lastActivity = core.now
    }

    // MARK: State

    /// True once the connection is closed and its descriptor released.
    public var isClosed: Bool { lifecycle.isClosed }

    /// True while an outbound connect is still in progress.
    public var isConnecting: Bool { lifecycle.phase == .connecting }

    /// True while input delivery is paused by `pauseReading()`.
    public var isReadingPaused: Bool { lifecycle.input == .paused }

    /// Bytes accepted by `write`/`enqueue` and not yet taken by the kernel: the backpressure signal.
    public var outboundByteCount: Int { outbound.count - outboundStart }

    /// The peer's address (getpeername), or nil once closed or not connected.
    public var remoteAddress: SocketAddress? {
        isClosed ? nil : (try? Socket.remoteAddress(fd)) ?? nil
    }

    /// This side's address (getsockname), or nil once closed.
    public var localAddress: SocketAddress? {
        isClosed ? nil : (try? Socket.localAddress(fd)) ?? nil
    }

    // MARK: Writing

    /// Sends `bytes`: as much as the kernel takes right now, the rest buffered and sent when the socket is
    /// writable. While connecting, everything is buffered until the connect completes. Returns false (and sends
    /// nothing) once the connection is closed or its output shut down.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard lifecycle.acceptsWrites else { return false }
        guard !bytes.isEmpty else { return true }
        guard outboundByteCount == 0, lifecycle.phase == .open else {
            outbound.append(contentsOf: bytes)
            updateInterest()
            return true
        }
        sendDirectly(bytes)
        return true
    }

    /// Buffers `bytes` without a syscall, to coalesce several small writes into one send; they go out on the next
    /// `flush()`, `write`, or loop iteration, whichever comes first. Returns false once output is closed.
    @discardableResult
    public func enqueue(_ bytes: some Collection<UInt8>) -> Bool {
        guard lifecycle.acceptsWrites else { return false }
        outbound.append(contentsOf: bytes)
        updateInterest()
        return true
    }

    /// Sends buffered bytes now, as far as the kernel takes them.
    public func flush() {
        if outboundByteCount > 0 && lifecycle.phase == .open { flushOutbound() }
    }

    // MARK: Reading

    /// Stops delivering input (backpressure): the socket is no longer watched for reading, so the kernel's
    /// receive window fills and the peer slows down.
    public func pauseReading() {
        if lifecycle.pauseInput() { updateInterest() }
    }

    /// Resumes input delivery. Bytes left unconsumed while paused are offered again on the next iteration even if
    /// no new bytes arrive.
    public func resumeReading() {
        if isParked { unpark() }
        guard lifecycle.resumeInput() else { return }
        updateInterest()
        if !unconsumed.isEmpty && !needsRedelivery {
            needsRedelivery = true
            _ = core.schedule(afterNanoseconds: 0) { [self] in redeliverUnconsumed() }
        }
    }

    // MARK: Timeouts

    /// Closes the connection (through the handler's `connectionIdleTimeoutExpired`) when no byte moved either way
    /// for this long; nil (the default) disables it. Built on one loop timer that is moved lazily: activity only
    /// stamps a time, and the timer re-arms itself when it finds the connection was active meanwhile.
    public var idleTimeout: Duration? {
        get { idleNanoseconds == 0 ? nil : .nanoseconds(Int64(idleNanoseconds)) }
        set {
            if let idleTimer { core.cancel(idleTimer) }
            idleTimer = nil
            idleNanoseconds = newValue.map { max($0.clampedNanoseconds, 1) } ?? 0
            guard idleNanoseconds > 0, !isClosed else { return }
            lastActivity = core.now
            armIdleTimer(at: lastActivity &+ idleNanoseconds)
        }
    }

    /// Closes the connection (`.writeTimedOut`) when output has been waiting this long without the kernel taking a
    /// single byte of it: a peer that stopped reading. Input does not count as progress, so a client that keeps
    /// sending but never reads is still closed; nil (the default) disables it. Also bounds a lingering close whose
    /// last response never drains.
    public var writeTimeout: Duration? {
        get { writeTimeoutNanoseconds == 0 ? nil : .nanoseconds(Int64(writeTimeoutNanoseconds)) }
        set {
            if let writeTimer { core.cancel(writeTimer) }
            writeTimer = nil
            writeTimeoutNanoseconds = newValue.map { max($0.clampedNanoseconds, 1) } ?? 0
            guard writeTimeoutNanoseconds > 0, !isClosed, outboundByteCount > 0 else { return }
            lastWriteProgress = core.now
            armWriteTimer(at: lastWriteProgress &+ writeTimeoutNanoseconds)
        }
    }

    // MARK: Closing

    /// Half-closes: once the buffered bytes are sent, sends FIN. Input keeps arriving. If the peer's FIN already
    /// came, the connection then closes.
    public func shutdownOutput() {
        apply(lifecycle.shutdownOutputRequested(hasBufferedOutput: outboundByteCount > 0))
    }

    /// Closes without losing the final response: stops delivering input, sends what is buffered, sends FIN, then
    /// reads and discards until the peer's FIN or `timeout` after the FIN, then closes. Closing straight away with
    /// unread input would make the kernel send RST, and the peer could lose the bytes it had not read yet.
    public func closeLingering(timeout: Duration) {
        lingerMilliseconds = UInt32(clamping: timeout.clampedNanoseconds / 1_000_000)
        if isParked { unpark() }
        apply(lifecycle.lingeringCloseRequested(hasBufferedOutput: outboundByteCount > 0))
    }

    /// The socket's TCP segment counts: a `getsockopt(TCP_INFO)` while open, the last reading once closed.
    public var segmentCounts: SegmentCounts? {
        isClosed ? finalSegmentCounts : Socket.segmentCounts(fd)
    }

    /// Closes now; buffered output is dropped. The handler hears `didCloseWith` before this returns.
    public func close() {
        apply(lifecycle.closeRequested())
    }
}
