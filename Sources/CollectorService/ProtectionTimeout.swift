/// Which timeout fired.
package enum ProtectionTimeout: String, CaseIterable, Sendable {
    /// No complete HTTP/1.1 request head in time (408).
    case header
    /// An HTTP/1.1 body not complete in time (408).
    case request
    /// An HTTP/2 request stream with no byte in time (UNAVAILABLE / 408).
    case streamIdle = "stream_idle"
    /// A connection with no traffic either way.
    case idle
    /// Output waiting without the client reading.
    case write
}
