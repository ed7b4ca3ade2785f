extension HTTP1ConnectionState {
    /// Where the connection is in its lifecycle. Each deadline's timer runs exactly while its phase lasts: the
    /// header timer in `readingHead`, the body timer in `readingBody`; no other phase has one.
    public enum Phase: Equatable, Sendable {
        /// Between keep-alive requests (or before `start`): reading, no byte of a next request yet, and only the
        /// transport's idle timeout applies.
        case idle
        /// Waiting for a complete request head under the header deadline: from the connection's opening for the
        /// first request, from a later request's first byte.
        case readingHead
        /// A head was accepted for reading; its body is read under the body deadline. `isShutdownRequested`: the
        /// server is shutting down, so the answer will close the connection.
        case readingBody(HTTPRequestHead, isShutdownRequested: Bool)
        /// The request is dispatched and reading is paused until its answer is ready; `isKeepAlive` is the
        /// request's own (after its body, the parser knows).
        case awaitingResponse(HTTPRequestHead, isKeepAlive: Bool, isShutdownRequested: Bool)
        /// A keep-alive answer is out, but the client has not read enough of it yet: reading stays paused until the
        /// server reports `outputDrained`.
        case waitingForDrain
        /// A closing answer or an error is out and the lingering close is under way: nothing more is read as HTTP.
        case closing
        /// The transport closed (or the idle timeout closed it).
        case closed

        /// The head of the request being read or answered.
        public var requestHead: HTTPRequestHead? {
            switch self {
            case .readingBody(let head, _), .awaitingResponse(let head, _, _): head
            default: nil
            }
        }
    }
}
