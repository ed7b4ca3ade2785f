// The seam between protocol handlers and whatever carries their bytes.
//
// A handler (HTTP/1.1, the HTTP/2 pump, the protocol sniffer, a simulated device) sees its connection only as a
// `ByteTransport`: bytes in through its `ConnectionHandler` callbacks, bytes out through `write`, plus backpressure,
// timeouts and closing. Three things implement it: the socket `Connection`, a TLS wrapper (which decrypts before
// the handler and encrypts after it, counting ciphertext itself), and `InMemoryTransport`, which tests drive byte
// by byte with no socket (as SwiftNIO's EmbeddedChannel does). Handlers written against this protocol run
// unchanged on all three.
//
// Rules every transport keeps (the handler relies on them):
// - Every callback and every method runs on `loop`'s thread, one at a time.
// - `didRead`/`didWrite` report the bytes that crossed the transport's own edge (read(2)/send(2) results for a
//   socket), so their sums equal `bytesRead`/`bytesWritten`; `didReceive` offers the bytes to parse, starting
//   with what the handler left unconsumed last time.
// - `close()` delivers `didCloseWith` before it returns; after it the transport drops the handler.

/// A bidirectional byte stream a protocol handler drives; see the file header for the rules.
public protocol ByteTransport: AnyObject {
    /// The loop whose thread owns this transport: for timers and to come back from other threads.
    var loop: EventLoop { get }
    /// The handler receiving this transport's events; set it to hand the transport to another handler.
    var handler: (any ConnectionHandler)? { get set }
    /// Bytes that came in at the transport's edge so far.
    var bytesRead: UInt64 { get }
    /// Bytes that went out at the transport's edge so far.
    var bytesWritten: UInt64 { get }
    /// True once closed.
    var isClosed: Bool { get }
    /// True while input delivery is paused (`pauseReading`).
    var isReadingPaused: Bool { get }
    /// Bytes accepted by `write`/`enqueue` that have not left yet (the peer is not reading them fast enough).
    var outboundByteCount: Int { get }
    /// The peer's address, when there is one.
    var remoteAddress: SocketAddress? { get }
    /// Closes through `connectionIdleTimeoutExpired` after this long without a byte either way; nil disables it.
    var idleTimeout: Duration? { get set }
    /// Closes with `.writeTimedOut` when output waits this long without progress; nil disables it.
    var writeTimeout: Duration? { get set }

    /// Sends `bytes` (buffering what cannot leave yet); false once output is closed.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Buffers `bytes` to go out with the next `flush`, `write` or loop iteration; false once output is closed.
    @discardableResult
    func enqueue(_ bytes: some Collection<UInt8>) -> Bool
    /// Sends what is buffered, as far as the peer takes it.
    func flush()
    /// Stops delivering input (backpressure).
    func pauseReading()
    /// Resumes input delivery; bytes left unconsumed are offered again.
    func resumeReading()
    /// Half-closes: FIN once the buffered bytes are out.
    func shutdownOutput()
    /// Sends what is buffered and FIN, discards input until the peer's FIN or `timeout`, then closes.
    func closeLingering(timeout: Duration)
    /// Closes now, dropping buffered output.
    func close()
    /// TCP segments the kernel counted on the socket underneath, both ways (read now while open, the last reading
    /// once closed); nil when there is no socket.
    var segmentCounts: SegmentCounts? { get }
}

/// TCP segments of one socket as the kernel counts them (`TCP_INFO`): data, acknowledgements, SYN and FIN alike.
public struct SegmentCounts: Equatable, Sendable {
    /// Segments received.
    public var inbound: UInt64
    /// Segments sent.
    public var outbound: UInt64

    /// Memberwise.
    public init(inbound: UInt64, outbound: UInt64) {
        self.inbound = inbound
        self.outbound = outbound
    }
}

extension ByteTransport {
    /// `write` for any byte collection (`[UInt8]`, `ArraySlice<UInt8>`, `"text".utf8`).
    @discardableResult
    public func write(_ bytes: some Collection<UInt8>) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ write(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { write($0) }
    }

    /// No socket underneath: no segment counts.
    public var segmentCounts: SegmentCounts? { nil }

    /// A lingering close with the default 2 s bound.
    public func closeLingering() { closeLingering(timeout: .seconds(2)) }
}
