/// What a server made of a request head, before any of its body: whether to read the body, and how a refusal is
/// delivered. The server decides (routing, authentication, content type); `HTTP1ConnectionState` decides when the
/// answer goes out and whether the connection survives it.
public enum HTTP1HeadVerdict: Equatable, Sendable {
    /// Read the body (after `100 Continue` when the client waits for it), then dispatch the request.
    case accepted
    /// Refused (404, 405, 411, 415…). When the client waits for `100 Continue` the refusal goes out at the head,
    /// its body is never sent, and the connection closes. Otherwise the body is read and the dispatched request is
    /// answered with the refusal, keeping the connection.
    case refused
    /// Refused, and the body must never be read or buffered (not authenticated, not allowed): the refusal goes out
    /// at the head whenever the request has a body or waits for `100 Continue`, and the connection closes (its
    /// lingering close discards the body the client is still sending). Without a body it is dispatched like
    /// `refused`.
    case refusedUnread
}
