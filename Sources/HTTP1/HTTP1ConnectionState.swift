// The lifecycle of one server-side HTTP/1.1 connection as a value: events in, actions out. The server keeps the
// parser, the socket and its bookkeeping, reports what happened, and performs what it is told.
//
// Rules:
// - One request at a time. A request is dispatched once its body is complete, and reading pauses until it is
//   answered, so pipelined requests are answered strictly in order and unread input stays bounded. After a
//   keep-alive answer reading resumes only once the server reports the client has read it down to its high water
//   (`outputDrained`): a client that pipelines without reading holds at most one answer plus that.
// - A head is judged before its body (`HTTP1HeadVerdict`). A refusal goes out at the head, without reading the body,
//   when the client waits for `100 Continue`, and also whenever the request has a body if that body must never be
//   buffered (authentication); the connection then closes. An accepted head that waits for it gets `100 Continue`.
//   Other refusals are the dispatched request's answer, after its body, and keep the connection.
// - Every error answer closes, lingering (the peer reads the answer while what it still sends is discarded): parse
//   errors (what follows cannot be framed), the deadlines, the server's own refusals at the head or of a body.
// - Deadlines are totals, armed once and never moved by arriving bytes, so a client trickling bytes gets 408 all the
//   same. The header deadline runs from the connection's opening for the first request (time spent before the
//   protocol was known counts) and from a later request's first byte; between keep-alive requests only the
//   transport's idle timeout applies. The body deadline runs from the end of the head to the end of the body.
//   Neither runs while a request is answered. A deadline's timer runs exactly while its phase lasts (`Phase`).
// - The idle timeout closes at once, in any phase. Shutdown closes a connection with no request head yet at once
//   (lingering); a request being read or answered is finished and answered with `Connection: close`, then it closes.
// - The peer's FIN closes lingering and leaves the phase as it is: a deadline that passes while the close waits
//   for the peer to read still answers 408 (which the transport no longer sends), as before this type existed.

/// One HTTP/1.1 server connection's lifecycle (the rules above), tested without a transport; `Response` is the
/// server's answer type, carried from `responseReady` to `sendResponse`.
public struct HTTP1ConnectionState<Response> {
    /// Where the connection is.
    public private(set) var phase = Phase.idle
    /// How long a request head may take (the first one counts from the connection's opening: see `start`).
    public let headerTimeout: Duration
    /// How long a body may take after its head.
    public let bodyTimeout: Duration

    /// A connection not started yet; `start` arms the first header deadline.
    public init(headerTimeout: Duration, bodyTimeout: Duration) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// True while the server should feed input to the parser: no request is being answered, no answer waits unread
    /// and the connection is not closing.
    public var isReadingRequests: Bool {
        switch phase {
        case .idle, .readingHead, .readingBody: true
        case .awaitingResponse, .waitingForDrain, .closing, .closed: false
        }
    }

    /// True while a body is read: the bytes the parser holds of it count against the server's buffer budget.
    public var isReadingBody: Bool {
        if case .readingBody = phase { true } else { false }
    }

    // MARK: Reading requests

    /// The connection opened; its first head is due `headerTimeRemaining` from now (the header deadline counts from
    /// the opening, and part of it may be spent already).
    public mutating func start(headerTimeRemaining: Duration) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .readingHead
        return [.startHeaderTimer(headerTimeRemaining)]
    }

    /// The parser delivered a request head, which the server judged.
    public mutating func headReceived(_ head: HTTPRequestHead, verdict: HTTP1HeadVerdict) -> [Action] {
        guard phase == .idle || phase == .readingHead else { return [] }
        let hasBody = head.framing != .noBody && head.contentLength != 0
        let isRefusedAtHead =
            switch verdict {
            case .accepted: false
            case .refused: head.expectsContinue
            case .refusedUnread: head.expectsContinue || hasBody
            }
        var actions = stopDeadline()
        if isRefusedAtHead {
            phase = .closing
            return actions + [.sendError(.rejected, version: head.version), .closeLingering]
        }
        phase = .readingBody(head, isShutdownRequested: false)
        actions.append(.startBodyTimer(bodyTimeout))
        if head.expectsContinue { actions.append(.sendContinue) }
        return actions
    }

    /// The parser delivered the end of the request being read (its body, if any, is complete).
    public mutating func requestComplete(_ end: HTTPMessageEnd) -> [Action] {
        guard case .readingBody(let head, let isShutdownRequested) = phase else { return [] }
        phase = .awaitingResponse(head, isKeepAlive: end.isKeepAlive, isShutdownRequested: isShutdownRequested)
        return [.cancelBodyTimer, .dispatch(head, end)]
    }

    /// The parser refused the input: answer with its error and close.
    public mutating func parseFailed(_ error: HTTPParseError) -> [Action] {
        guard isReadingRequests else { return [] }
        return refuse(.malformed(error))
    }

    /// The parser carries no more requests (the last one was not keep-alive): close.
    public mutating func requestsEnded() -> [Action] {
        guard isReadingRequests else { return [] }
        let actions = stopDeadline()
        phase = .closing
        return actions + [.closeLingering]
    }

    /// The server refuses the request whose body is being read (no buffer left for it): answer and close.
    public mutating func bodyRefused() -> [Action] {
        guard isReadingBody else { return [] }
        return refuse(.rejected)
    }

    /// One delivery of input has been parsed as far as the phase allows. `isBetweenMessages`: the parser holds no
    /// byte of a next request. A request's first bytes start the header deadline; a request being answered, or an
    /// answer waiting to be read, pauses reading.
    public mutating func readFinished(isBetweenMessages: Bool) -> [Action] {
        switch phase {
        case .idle where !isBetweenMessages:
            phase = .readingHead
            return [.startHeaderTimer(headerTimeout)]
        case .awaitingResponse, .waitingForDrain:
            return [.pauseReading]
        default:
            return []
        }
    }

    // MARK: Answering

    /// The dispatched request's answer is ready.
    public mutating func responseReady(_ response: Response) -> [Action] {
        guard case .awaitingResponse(let head, let isKeepAlive, let isShutdownRequested) = phase else { return [] }
        if isKeepAlive && !isShutdownRequested {
            phase = .waitingForDrain
            return [.sendResponse(response, to: head, isClosing: false)]
        }
        phase = .closing
        return [.sendResponse(response, to: head, isClosing: true), .closeLingering]
    }

    /// The client has read the output down to the server's high water (reported right after an answer is written
    /// when that is already so, and when the transport's output drains): the next request may be read.
    public mutating func outputDrained() -> [Action] {
        guard phase == .waitingForDrain else { return [] }
        phase = .idle
        return [.resumeReading]
    }

    // MARK: Deadlines, shutdown, closing

    /// The header deadline passed (or the server ended the header phase early): 408 and close, unless a head
    /// arrived meanwhile.
    public mutating func headerDeadlineExpired() -> [Action] {
        guard phase == .readingHead else { return [] }
        return refuse(.headerTimeout)
    }

    /// The body deadline passed: 408 and close, unless the body completed meanwhile.
    public mutating func bodyDeadlineExpired() -> [Action] {
        guard isReadingBody else { return [] }
        return refuse(.bodyTimeout)
    }

    /// No byte moved either way for the transport's idle timeout: close now, whatever the phase.
    public mutating func idleTimeoutExpired() -> [Action] {
        guard phase != .closed else { return [] }
        let actions = stopDeadline()
        phase = .closed
        return actions + [.close]
    }

    /// The server is shutting down: close now when no request head has arrived (or the last answer is merely
    /// unread); otherwise finish the request and close after its answer.
    public mutating func shutdownRequested() -> [Action] {
        switch phase {
        case .idle, .readingHead, .waitingForDrain:
            let actions = stopDeadline()
            phase = .closing
            return actions + [.closeLingering]
        case .readingBody(let head, _):
            phase = .readingBody(head, isShutdownRequested: true)
            return []
        case .awaitingResponse(let head, let isKeepAlive, _):
            phase = .awaitingResponse(head, isKeepAlive: isKeepAlive, isShutdownRequested: true)
            return []
        case .closing, .closed:
            return []
        }
    }

    /// The peer sent FIN: close lingering. The phase stays (see the rules).
    public mutating func peerClosed() -> [Action] {
        phase == .closed ? [] : [.closeLingering]
    }

    /// The transport closed: disarm what still runs.
    public mutating func closed() -> [Action] {
        let actions = stopDeadline()
        phase = .closed
        return actions
    }

    // MARK: Helpers

    /// Answers with an error and closes.
    private mutating func refuse(_ refusal: HTTP1Refusal) -> [Action] {
        let version = phase.requestHead?.version ?? .http1_1
        let actions = stopDeadline()
        phase = .closing
        return actions + [.sendError(refusal, version: version), .closeLingering]
    }

    /// Cancels the timer of the deadline the current phase runs under, if any (called when the phase ends).
    private func stopDeadline() -> [Action] {
        switch phase {
        case .readingHead: [.cancelHeaderTimer]
        case .readingBody: [.cancelBodyTimer]
        default: []
        }
    }
}
