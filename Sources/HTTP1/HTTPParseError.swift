/// Why a parser refused a message: the status a server answers with and a short message naming the problem.
///
/// Every parse error is terminal: the parser stays failed and the connection must close after the error
/// response (RFC 9112 §9.6), because the framing of whatever follows can no longer be trusted. For the response
/// parser the status is the one that best describes the fault; the client records it, nobody sends it.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status to answer with: 400, 413, 414, 417, 431, 501 or 505.
    public var status: HTTPStatus
    /// A short, stable message naming the problem, e.g. "Content-Length and Transfer-Encoding together".
    public var message: String
    /// The request's head, when the error was found once the head was read (a declared body over the limit): the
    /// server may answer in the request's own protocol (a gRPC-Web or Connect error rather than a REST one).
    public var requestHead: HTTPRequestHead?

    /// An error with the status to send and the message to show.
    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Errors are equal by status and message (the head is context, not the error).
    public static func == (lhs: HTTPParseError, rhs: HTTPParseError) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message
    }

    /// `400 Bad Request: bare LF`, for example.
    public var description: String { "\(status): \(message)" }
}
