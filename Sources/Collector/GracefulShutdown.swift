/// What the server asks of every connection handler at shutdown.
protocol GracefulShutdown: AnyObject {
    /// Stop taking new requests, finish the ones in flight, then close.
    func beginShutdown()
}
