/// How a message's body is delimited on the wire (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body: a request with neither Content-Length nor Transfer-Encoding, or a response that cannot have one
    /// (1xx, 204, 304, or the answer to HEAD).
    case noBody
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`: chunks until a zero-size chunk and the trailer section.
    case chunked
    /// Responses only: the body runs until the server closes the connection.
    case untilClose
}
