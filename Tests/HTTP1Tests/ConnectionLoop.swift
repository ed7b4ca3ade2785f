import HTTP1

/// A server loop as small as the collector's HTTP/1.1 connection, with no transport: it feeds deliveries of bytes to
/// a real `HTTPRequestParser`, reports to an `HTTP1ConnectionState` exactly as the collector does, and performs the
/// actions on a pretend transport (reading paused or not, leftover input kept). Every request is answered with its
/// target, at once or when the test calls `answer()`; every answer is read by the client at once.
struct ConnectionLoop {
    var parser = HTTPRequestParser()
    var state = ConnectionState(headerTimeout: Fixture.headerTimeout, bodyTimeout: Fixture.bodyTimeout)
    /// Whether a dispatched request is answered inside `dispatch` (as a health check is) or later (as a commit is).
    var isAnsweringAtOnce: Bool
    /// Targets dispatched, in order.
    var dispatched: [String] = []
    /// Answers sent, in order, with whether each closed the connection.
    var sent: [(answer: String, isClosing: Bool)] = []
    /// True while the pretend transport does not deliver input.
    var isReadingPaused = false
    /// True once a lingering close (or a close) was asked for.
    var isClosing = false
    /// Input received and not consumed yet (left over, or waiting while paused).
    private var unconsumed: [UInt8] = []
    /// The target of the request dispatched and not answered yet.
    private var unanswered: String?
    /// Reading resumed with input waiting: it is delivered after the current step, as a transport does it on its
    /// next loop iteration (never inside the call that resumed).
    private var needsRedelivery = false

    init(isAnsweringAtOnce: Bool) {
        self.isAnsweringAtOnce = isAnsweringAtOnce
        perform(state.start(headerTimeRemaining: Fixture.headerTimeRemaining))
    }

    /// The client sends `bytes`; delivered now unless reading is paused.
    mutating func receive(_ bytes: [UInt8]) {
        unconsumed += bytes
        if !isReadingPaused && !isClosing { deliver() }
        redeliver()
    }

    /// The dispatched request's answer is ready (the client reads it at once).
    mutating func answer() {
        guard let target = unanswered else { return }
        unanswered = nil
        perform(state.responseReady(target))
        perform(state.outputDrained())
        redeliver()
    }

    /// The next loop iteration: input that waited while reading was paused is delivered again.
    private mutating func redeliver() {
        while needsRedelivery && !isReadingPaused && !isClosing {
            needsRedelivery = false
            deliver()
        }
    }

    /// One delivery, parsed the way the collector's `didReceive` does.
    private mutating func deliver() {
        var offset = 0
        let input = unconsumed
        parsing: while state.isReadingRequests {
            let step = parser.parse(input[offset...])
            offset += step.consumed
            switch step.event {
            case .needMoreData: break parsing
            case .head(let head): perform(state.headReceived(head, verdict: .accepted))
            case .body: break
            case .end(let end): perform(state.requestComplete(end))
            case .error(let error): perform(state.parseFailed(error))
            case .closed: perform(state.requestsEnded())
            }
        }
        unconsumed = Array(input[offset...])
        perform(state.readFinished(isBetweenMessages: parser.isBetweenMessages))
    }

    private mutating func perform(_ actions: [ConnectionAction]) {
        for action in actions {
            switch action {
            case .pauseReading: isReadingPaused = true
            case .resumeReading:
                if isReadingPaused && !unconsumed.isEmpty { needsRedelivery = true }
                isReadingPaused = false
            case .dispatch(let head, _):
                dispatched.append(head.target)
                unanswered = head.target
                if isAnsweringAtOnce { answer() }
            case .sendResponse(let answer, _, let isClosing): sent.append((answer, isClosing))
            case .closeLingering, .close: isClosing = true
            default: break
            }
        }
    }
}
