// A transport with no socket, for driving a protocol handler byte by byte in tests (SwiftNIO's EmbeddedChannel is
// the model). The test plays the peer: `receive` is bytes arriving, `receiveEnd` the peer's FIN, `takeOutput` the
// peer reading what the handler wrote, and `peerWindow` how much the peer takes before it stops reading, so
// backpressure, never-reading clients and pipelining are exact and need no timing.
//
// It keeps the rules of ByteTransport.swift the way `Connection` does: input arrives as one read (`didRead` with its
// size) and is offered together with what the handler left unconsumed; nothing is read while paused (the bytes wait,
// like in a kernel buffer) and leftovers are offered again, on the next loop iteration, after `resumeReading`;
// `didWrite` reports what the peer took; `connectionDidDrain` follows once output that had to wait is all taken;
// a lingering close sends what is buffered and closes once it is taken. Timers are not run by time: the test calls
// `expireIdleTimeout` / `expireWriteTimeout`.
//
// Like every transport, it is used on its loop's thread only (tests run their steps on the loop).

/// A `ByteTransport` whose peer is the test.
public final class InMemoryTransport: ByteTransport {
    /// The loop whose thread the test runs its steps on; `enqueue` and `resumeReading` schedule on it.
    public let loop: EventLoop
    /// The handler under test; once closed it stays nil (a handler assigned then is dropped).
    public var handler: (any ConnectionHandler)? {
        didSet { if isClosed && handler != nil { handler = nil } }
    }
    /// Bytes delivered as reads so far; bytes held while reading is paused count once they are read.
    public private(set) var bytesRead: UInt64 = 0
    /// Bytes the peer has taken so far; output still held back by `peerWindow` is not counted.
    public private(set) var bytesWritten: UInt64 = 0
    /// True once closed, by either side or by a limit; see `closeReason`.
    public private(set) var isClosed = false
    /// True between `pauseReading` and `resumeReading`.
    public private(set) var isReadingPaused = false
    /// The peer's address; nil unless the test sets one.
    public var remoteAddress: SocketAddress?
    /// Stored only: no clock runs here, the test calls `expireIdleTimeout`.
    public var idleTimeout: Duration?
    /// Stored only: no clock runs here, the test calls `expireWriteTimeout`.
    public var writeTimeout: Duration?
    /// Why it closed, once closed.
    public private(set) var closeReason: CloseReason?
    /// True once a lingering close or `shutdownOutput` asked for FIN (sent once the output is taken).
    public private(set) var isOutputShutDown = false
    /// True once the peer's FIN arrived.
    public private(set) var hasInputEnded = false
    /// How many more bytes the peer takes before it stops reading; nil: it reads everything at once.
    public var peerWindow: Int? {
        get { window }
        set {
            window = newValue
            pumpOutput()
        }
    }
    /// Where reads and writes are also added, as a listener's connections do.
    public let byteTotals: TransportByteTotals?

    private var unconsumed: [UInt8] = []
    private var waitingInput: [UInt8] = []
    private var outbound: [UInt8] = []
    private var taken: [UInt8] = []
    private var window: Int?
    private var isLingering = false
    private var isRedeliveryScheduled = false
    /// Output had to wait (the peer's window was full, or it was only enqueued): `connectionDidDrain` follows when
    /// it is all taken.
    private var hasOutputWaited = false

    /// A transport on `loop` for `handler`; call `open()` to deliver `connectionDidOpen`.
    public init(loop: EventLoop, handler: any ConnectionHandler, byteTotals: TransportByteTotals? = nil) {
        self.loop = loop
        self.handler = handler
        self.byteTotals = byteTotals
    }

    /// The connection is established: the handler hears `connectionDidOpen`.
    public func open() {
        loop.preconditionInEventLoop()
        handler?.connectionDidOpen(self)
    }

    /// The peer sends `bytes`: one read of that size, offered to the handler after its leftovers (or kept until
    /// reading resumes while paused).
    public func receive(_ bytes: some Collection<UInt8>) {
        loop.preconditionInEventLoop()
        guard !isClosed, !hasInputEnded else { return }
        if isReadingPaused {
            waitingInput.append(contentsOf: bytes)
            return
        }
        read(Array(bytes))
    }

    /// The peer half-closes (FIN): the handler hears `connectionInputDidEnd` once its input is delivered.
    public func receiveEnd() {
        loop.preconditionInEventLoop()
        guard !isClosed, !hasInputEnded else { return }
        hasInputEnded = true
        if isLingering || isOutputShutDown {
            finishIfDone()
        } else if !isReadingPaused {
            handler?.connectionInputDidEnd(self)
        }
    }

    /// What the peer has taken so far (removed from here). With a `peerWindow`, taking output reads it: the window
    /// grows by what was taken, and output that waited moves on.
    public func takeOutput() -> [UInt8] {
        loop.preconditionInEventLoop()
        let output = taken
        taken = []
        if let window = peerWindow { peerWindow = window + output.count }
        return output
    }

    /// The idle timeout expired: the handler hears `connectionIdleTimeoutExpired`.
    public func expireIdleTimeout() {
        loop.preconditionInEventLoop()
        guard !isClosed else { return }
        handler?.connectionIdleTimeoutExpired(self)
    }

    /// The write timeout expired: output waiting unread closes the connection with `.writeTimedOut`.
    public func expireWriteTimeout() {
        loop.preconditionInEventLoop()
        guard !isClosed, !outbound.isEmpty else { return }
        finishClose(.writeTimedOut)
    }

    // MARK: ByteTransport

    /// Bytes written but not yet taken by the peer (held back by `peerWindow`, or enqueued and not yet sent).
    public var outboundByteCount: Int { outbound.count }

    /// Appends `bytes` to the output and lets the peer take what its window allows; false once output is closed.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        loop.preconditionInEventLoop()
        guard !isClosed, !isOutputShutDown else { return false }
        outbound.append(contentsOf: bytes)
        pumpOutput()
        return true
    }

    /// Appends `bytes`; as on a socket they go out at `flush`, the next `write` or the next loop iteration.
    @discardableResult
    public func enqueue(_ bytes: some Collection<UInt8>) -> Bool {
        loop.preconditionInEventLoop()
        guard !isClosed, !isOutputShutDown else { return false }
        outbound.append(contentsOf: bytes)
        hasOutputWaited = true
        // As a socket does: enqueued bytes go out on the next iteration unless flushed first.
        _ = loop.schedule(after: .zero) { [weak self] in self?.pumpOutput() }
        return true
    }

    /// Lets the peer take as much of the output as its window allows.
    public func flush() { pumpOutput() }

    /// Stops delivering input; `receive` keeps the bytes until `resumeReading`.
    public func pauseReading() { isReadingPaused = true }

    /// Delivers waiting and leftover input on the next loop iteration, as a socket would, not inside this call.
    public func resumeReading() {
        guard isReadingPaused, !isClosed else { return }
        isReadingPaused = false
        guard !isRedeliveryScheduled else { return }
        isRedeliveryScheduled = true
        // As a socket does: leftovers and waiting bytes come on the next iteration, not inside this call.
        _ = loop.schedule(after: .zero) { [self] in
            isRedeliveryScheduled = false
            guard !isClosed, !isReadingPaused else { return }
            let waiting = waitingInput
            waitingInput = []
            if !waiting.isEmpty {
                read(waiting)
            } else if !unconsumed.isEmpty {
                offer([])
            }
            if hasInputEnded && !isClosed && !isReadingPaused && !isLingering { handler?.connectionInputDidEnd(self) }
        }
    }

    /// FIN once the peer has taken the output; closes with `.peerClosed` once the peer's FIN has arrived too.
    public func shutdownOutput() {
        guard !isClosed else { return }
        isOutputShutDown = true
        finishIfDone()
    }

    /// Drops unread input and closes (`.local`) once the peer has taken the output; `timeout` is unused, as no
    /// clock runs here.
    public func closeLingering(timeout: Duration) {
        guard !isClosed else { return }
        isLingering = true
        isOutputShutDown = true
        unconsumed = []
        waitingInput = []
        finishIfDone()
    }

    /// Closes now with `.local`, dropping output the peer has not taken.
    public func close() {
        guard !isClosed else { return }
        finishClose(.local)
    }

    // MARK: Internals

    private func read(_ bytes: [UInt8]) {
        bytesRead &+= UInt64(bytes.count)
        byteTotals?.didRead(bytes.count)
        handler?.connection(self, didRead: bytes.count)
        guard !isClosed, !isLingering else { return }
        offer(bytes)
    }

    private func offer(_ bytes: [UInt8]) {
        let input = unconsumed + bytes
        let consumed = input.withUnsafeBytes { pointer in handler?.connection(self, didReceive: pointer) ?? pointer.count }
        guard !isClosed, !isLingering else { return }
        unconsumed = Array(input[min(consumed, input.count)...])
        if unconsumed.count >= Connection.maxUnconsumedByteCount { finishClose(.unconsumedInputLimit) }
    }

    private func pumpOutput() {
        guard !isClosed, !outbound.isEmpty else { return }
        let count = min(outbound.count, window ?? outbound.count)
        guard count > 0 else {
            hasOutputWaited = true
            return
        }
        taken.append(contentsOf: outbound[..<count])
        outbound.removeFirst(count)
        if let open = window { window = open - count }
        bytesWritten &+= UInt64(count)
        byteTotals?.didWrite(count)
        handler?.connection(self, didWrite: count)
        guard !isClosed else { return }
        if !outbound.isEmpty {
            hasOutputWaited = true
        } else if hasOutputWaited {
            hasOutputWaited = false
            handler?.connectionDidDrain(self)
        }
        finishIfDone()
    }

    private func finishIfDone() {
        guard !isClosed, isOutputShutDown, outbound.isEmpty else { return }
        if isLingering || hasInputEnded { finishClose(hasInputEnded && !isLingering ? .peerClosed : .local) }
    }

    private func finishClose(_ reason: CloseReason) {
        isClosed = true
        closeReason = reason
        outbound = []
        let handler = self.handler
        self.handler = nil
        handler?.connection(self, didCloseWith: reason)
    }
}
