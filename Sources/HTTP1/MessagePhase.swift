/// Where a request or response parser is in the current message; shared by both parsers.
enum MessagePhase: Sendable, Equatable {
    /// Reading a head (or waiting for the next message's first byte).
    case head
    /// The (final) head was reported; reading its body, or about to report `.end`.
    case body
    /// The connection carries no more messages (the last was not keep-alive, or the peer closed between them).
    case closed
    /// The message was refused; the error is repeated.
    case failed(HTTPParseError)
}
