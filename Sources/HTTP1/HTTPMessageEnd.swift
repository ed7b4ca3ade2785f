/// What the parsers report when a message is complete: its body (when accumulated), trailers and byte counts.
public struct HTTPMessageEnd: Sendable, Equatable {
    /// The whole body when the parser accumulates bodies; empty when it streams them as `.body` events.
    public var body: [UInt8]
    /// Trailer fields of a chunked body; empty otherwise.
    public var trailers: HTTPHeaders
    /// The message's bytes on the wire.
    public var bytes: HTTPMessageBytes
    /// Whether the connection carries another message after this one; when false the parser is closed and the
    /// peer's remaining bytes are not HTTP of this connection.
    public var isKeepAlive: Bool

    /// A message end from its parts.
    public init(body: [UInt8] = [], trailers: HTTPHeaders = HTTPHeaders(), bytes: HTTPMessageBytes, isKeepAlive: Bool) {
        self.body = body
        self.trailers = trailers
        self.bytes = bytes
        self.isKeepAlive = isKeepAlive
    }
}
