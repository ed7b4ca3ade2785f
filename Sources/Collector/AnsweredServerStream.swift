/// A stream whose response is decided (sent, refused at its headers, or handed to the REST service) while the
/// client may still send frames until the stream closes: everything it receives is discarded (the connection still
/// credits the flow-control window). Stateless, so one instance serves every connection.
final class AnsweredServerStream: ServerStreamHandler, Sendable {
    /// The one instance.
    static let shared = AnsweredServerStream()

    private init() {}

    var idleSince: ContinuousClock.Instant? { nil }
    func receiveData(_ bytes: UnsafeRawBufferPointer) -> Bool { true }
    func receiveEnd() {}
    func expireIdle(_ message: String) {}
    func cancel() {}
}
