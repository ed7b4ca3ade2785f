/// Why an HTTP/1.1 server connection answers with an error and closes. The state machine
/// (`HTTP1ConnectionState`) decides that the error goes out; the server renders it (status, body, logging).
public enum HTTP1Refusal: Equatable, Sendable {
    /// The parser refused the request: answer with the error's status and message.
    case malformed(HTTPParseError)
    /// No complete request head before the header deadline (408).
    case headerTimeout
    /// The body was not complete before the body deadline (408).
    case bodyTimeout
    /// The server rejected the request itself: at its head (`HTTP1HeadVerdict`), or while its body was read
    /// (`bodyRefused`, e.g. no buffer left for it). The server knows which answer it chose.
    case rejected
}
