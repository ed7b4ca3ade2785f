/// One request stream of an h2c connection, as the connection multiplexes it: the connection hands each stream's
/// events to the stream's own object and decides nothing per kind. Each kind (a gRPC call, a REST request, a
/// stream already answered) owns its lifecycle; work that completes later (a store commit, a REST response, a
/// deadline) holds the stream object and checks the object's own state, never the connection's stream table.
/// The connection's table maps a stream id to the object handling it now: a request stream is replaced by
/// `AnsweredServerStream` once it stops receiving, and removed (after `cancel`) when the stream closes.
protocol ServerStreamHandler: AnyObject {
    /// When the client last sent a byte, while it is still sending its request; nil once it has finished or the
    /// stream was answered (only receiving streams can be answered for idleness).
    var idleSince: ContinuousClock.Instant? { get }
    /// DATA payload (the pointer is valid only during the call). Returns true when the connection should credit
    /// the bytes to the flow-control window now; false when the stream holds them back and credits them itself
    /// (`HTTP2Session.consume`) once it takes them (backpressure on that stream's client).
    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The client ended its side (END_STREAM).
    func receiveEnd()
    /// The stream has been quiet for the stream idle timeout: answer it (`message` says so) and stop receiving.
    func expireIdle(_ message: String)
    /// The stream closed (reset, or both sides done) or the connection went away: stop timers, send nothing more.
    func cancel()
}
