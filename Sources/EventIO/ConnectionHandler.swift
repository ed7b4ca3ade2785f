// What a protocol engine implements to drive one connection.

/// The owner of one connection (any `ByteTransport`: a socket, TLS, in memory): a protocol handler (HTTP/1.1, HTTP/2 pump, a sniffer that picks one, a simulated
/// device). Every callback runs on the connection's loop thread, one at a time.
///
/// Byte accounting: `didRead` and `didWrite` report the exact result of every read(2) and send(2), so the sum of
/// the calls equals `bytesRead` / `bytesWritten` and equals what crossed the socket. `didReceive` is about parsing,
/// not counting: its input also holds the bytes the handler left unconsumed last time.
///
/// Reentrancy: a handler may call any `ByteTransport` method from inside a callback, including `close()`, which then
/// delivers `didCloseWith` before returning. After `didCloseWith` the connection drops its reference to the handler.
///
/// Subclassing: a class hierarchy of handlers must declare every callback it overrides in its base class; a
/// subclass method that only shadows one of the defaults below is never called (protocol-extension defaults are not
/// dynamically dispatched).
public protocol ConnectionHandler: AnyObject {
    /// The connection is established: accepted, or an outbound connect completed.
    func connectionDidOpen(_ connection: any ByteTransport)

    /// New input. `input` lives in the loop's shared read buffer and is valid only during the call; it starts with
    /// whatever the handler left unconsumed last time. Returns how many leading bytes were consumed (0...count);
    /// the connection keeps the rest and offers it again, followed by new bytes, on the next read.
    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int

    /// One read(2) returned `byteCount` > 0 bytes; called before `didReceive`, and also for the bytes a lingering
    /// close reads and discards.
    func connection(_ connection: any ByteTransport, didRead byteCount: Int)

    /// One send(2) handed `byteCount` > 0 bytes to the kernel.
    func connection(_ connection: any ByteTransport, didWrite byteCount: Int)

    /// The outbound buffer emptied (after the socket had pushed back, or after `enqueue`d bytes were flushed): a
    /// good time to produce more.
    func connectionDidDrain(_ connection: any ByteTransport)

    /// The peer sent FIN: no more input will come. The default sends what is buffered and closes.
    func connectionInputDidEnd(_ connection: any ByteTransport)

    /// No byte moved either way for the transport's `idleTimeout`. The default closes the connection.
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport)

    /// The connection is closed and its descriptor released; the last callback.
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason)
}

extension ConnectionHandler {
    /// Default: nothing to do.
    public func connectionDidOpen(_ connection: any ByteTransport) {}
    /// Default: no per-read accounting.
    public func connection(_ connection: any ByteTransport, didRead byteCount: Int) {}
    /// Default: no per-write accounting.
    public func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {}
    /// Default: nothing was waiting for the drain.
    public func connectionDidDrain(_ connection: any ByteTransport) {}
    /// Default: answer the peer's FIN by sending what is left and closing.
    public func connectionInputDidEnd(_ connection: any ByteTransport) { connection.closeLingering() }
    /// Default: an idle connection is closed.
    public func connectionIdleTimeoutExpired(_ connection: any ByteTransport) { connection.close() }
    /// Default: nothing to clean up.
    public func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {}
}
