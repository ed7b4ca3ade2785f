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

    /// An error with the status to send and the message to show.
    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// `400 Bad Request: bare LF`, for example.
    public var description: String { "\(status): \(message)" }
}
