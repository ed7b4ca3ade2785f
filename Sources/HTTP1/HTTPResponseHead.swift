/// A response's head as the client parser reports it, for interim (1xx) and final responses alike.
public struct HTTPResponseHead: Sendable, Equatable {
    /// The response's HTTP version (major 1).
    public var version: HTTPVersion
    /// The status code and the reason phrase as sent.
    public var status: HTTPStatus
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// How the body is delimited: `.noBody` (1xx, 204, 304, answers to HEAD), `.contentLength(n)`, `.chunked`,
    /// or `.untilClose` when neither Content-Length nor Transfer-Encoding is given.
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request and response after this one.
    public var isKeepAlive: Bool
    /// Bytes of the head on the wire, from the status line through the blank line.
    public var byteCount: Int

    /// A head from its parts.
    public init(
        version: HTTPVersion = .http1_1, status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(),
        framing: HTTPBodyFraming = .noBody, isKeepAlive: Bool = true, byteCount: Int = 0
    ) {
        self.version = version
        self.status = status
        self.headers = headers
        self.framing = framing
        self.isKeepAlive = isKeepAlive
        self.byteCount = byteCount
    }

    /// The declared Content-Length, or nil when the body is framed otherwise.
    public var contentLength: Int? {
        if case .contentLength(let length) = framing { length } else { nil }
    }
}
