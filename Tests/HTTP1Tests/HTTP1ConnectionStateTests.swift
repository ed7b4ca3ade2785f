import HTTP1
import Testing

// Shared openings: each is a prefix of several scripts below.

/// The sniffer hands the connection over: the first head's deadline keeps counting from the opening.
private let opened = [ScriptStep(.start, [.startHeaderTimer(Fixture.headerTimeRemaining)])]
/// An ingest request's head is accepted: the header deadline gives way to the body deadline.
private let readingPost =
    opened + [
        ScriptStep(.head(Fixture.post, .accepted), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)])
    ]
/// Its body completes and it is dispatched; the answer is not ready when the input is parsed, so reading pauses.
private let awaitingPost =
    readingPost + [
        ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.post, Fixture.end())]),
        ScriptStep(.readFinished(isBetweenMessages: true), [.pauseReading]),
    ]
/// The answer goes out (keep-alive), the client reads it, and reading resumes.
private let answeredPost =
    awaitingPost + [
        ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: false)]),
        ScriptStep(.drained, [.resumeReading]),
    ]

/// The lifecycle, row by row: the events a server reports, the actions each must return, the phase left.
let connectionScripts: [ConnectionScript] = [
    // One request, then the next.
    ConnectionScript(
        "a request answered later: reading pauses, then resumes once the answer is read", answeredPost,
        ends: .idle),
    ConnectionScript(
        "between keep-alive requests no header deadline runs; a request's first byte starts one",
        answeredPost + [
            ScriptStep(.readFinished(isBetweenMessages: true), []),
            ScriptStep(.headerDeadline, []),
            ScriptStep(.readFinished(isBetweenMessages: false), [.startHeaderTimer(Fixture.headerTimeout)]),
            ScriptStep(.readFinished(isBetweenMessages: false), []),
        ], ends: .readingHead),
    ConnectionScript(
        "pipelined requests answered at once are read in the same delivery, in order",
        opened + [
            ScriptStep(.head(Fixture.get, .accepted), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.get, Fixture.end())]),
            ScriptStep(.response("a"), [.sendResponse("a", to: Fixture.get, isClosing: false)]),
            ScriptStep(.drained, [.resumeReading]),
            // The second head is already in the buffer: no header deadline between the two.
            ScriptStep(.head(Fixture.get2, .accepted), [.startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.get2, Fixture.end())]),
            ScriptStep(.response("b"), [.sendResponse("b", to: Fixture.get2, isClosing: false)]),
            ScriptStep(.drained, [.resumeReading]),
            ScriptStep(.readFinished(isBetweenMessages: true), []),
        ], ends: .idle),
    ConnectionScript(
        "a pipelined request waits unread while the one before it is answered",
        awaitingPost + [
            // Nothing is parsed while a request is answered; a late drain or deadline changes nothing.
            ScriptStep(.drained, []),
            ScriptStep(.headerDeadline, []),
            ScriptStep(.bodyDeadline, []),
            ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: false)]),
            ScriptStep(.response("twice"), []),
            ScriptStep(.drained, [.resumeReading]),
            ScriptStep(.head(Fixture.get, .accepted), [.startBodyTimer(Fixture.bodyTimeout)]),
        ], ends: .readingBody(Fixture.get, isShutdownRequested: false)),
    ConnectionScript(
        "a request that is not keep-alive is answered with Connection: close, then the connection closes",
        readingPost + [
            ScriptStep(
                .complete(isKeepAlive: false),
                [.cancelBodyTimer, .dispatch(Fixture.post, Fixture.end(isKeepAlive: false))]),
            ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: true), .closeLingering]),
            ScriptStep(.drained, []),
            ScriptStep(.readFinished(isBetweenMessages: true), []),
        ], ends: .closing),
    ConnectionScript(
        "the parser carries no more requests: close",
        answeredPost + [ScriptStep(.requestsEnded, [.closeLingering]), ScriptStep(.requestsEnded, [])],
        ends: .closing),

    // A client that does not read its answers.
    ConnectionScript(
        "a client that does not read: reading stays paused until its output drains",
        awaitingPost + [
            ScriptStep(.response("big"), [.sendResponse("big", to: Fixture.post, isClosing: false)]),
            ScriptStep(.readFinished(isBetweenMessages: true), [.pauseReading]),
            ScriptStep(.readFinished(isBetweenMessages: false), [.pauseReading]),
            ScriptStep(.headerDeadline, []),
            ScriptStep(.drained, [.resumeReading]),
            ScriptStep(.drained, []),
        ], ends: .idle),
    ConnectionScript(
        "a client that never reads is closed by the idle timeout",
        awaitingPost + [
            ScriptStep(.response("big"), [.sendResponse("big", to: Fixture.post, isClosing: false)]),
            ScriptStep(.idleTimeout, [.close]),
            ScriptStep(.drained, []),
            ScriptStep(.closed, []),
        ], ends: .closed),

    // Heads judged before their bodies.
    ConnectionScript(
        "100-continue, accepted: Continue after the body deadline is armed",
        opened + [
            ScriptStep(
                .head(Fixture.postExpecting, .accepted),
                [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout), .sendContinue])
        ], ends: .readingBody(Fixture.postExpecting, isShutdownRequested: false)),
    ConnectionScript(
        "100-continue, refused: the refusal goes out at the head, unread, and the connection closes",
        opened + [
            ScriptStep(
                .head(Fixture.postExpecting, .refused),
                [.cancelHeaderTimer, .sendError(.rejected, version: .http1_1), .closeLingering]),
            ScriptStep(.readFinished(isBetweenMessages: false), []),
            ScriptStep(.headerDeadline, []),
        ], ends: .closing),
    ConnectionScript(
        "100-continue, not authenticated: refused at the head",
        opened + [
            ScriptStep(
                .head(Fixture.postExpecting, .refusedUnread),
                [.cancelHeaderTimer, .sendError(.rejected, version: .http1_1), .closeLingering])
        ], ends: .closing),
    ConnectionScript(
        "refused without 100-continue: the body is read and the refusal is the dispatched request's answer",
        opened + [
            ScriptStep(.head(Fixture.post, .refused), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.post, Fixture.end())]),
            ScriptStep(.response("404"), [.sendResponse("404", to: Fixture.post, isClosing: false)]),
        ], ends: .waitingForDrain),
    ConnectionScript(
        "not authenticated with a body: refused at the head, the body never read",
        opened + [
            ScriptStep(
                .head(Fixture.post, .refusedUnread),
                [.cancelHeaderTimer, .sendError(.rejected, version: .http1_1), .closeLingering])
        ], ends: .closing),
    ConnectionScript(
        "not authenticated with a chunked body: refused at the head",
        opened + [
            ScriptStep(
                .head(Fixture.chunkedPost, .refusedUnread),
                [.cancelHeaderTimer, .sendError(.rejected, version: .http1_1), .closeLingering])
        ], ends: .closing),
    ConnectionScript(
        "not authenticated without a body: dispatched, answered, and the connection stays",
        opened + [
            ScriptStep(
                .head(Fixture.emptyPost, .refusedUnread),
                [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.emptyPost, Fixture.end())]),
        ], ends: .awaitingResponse(Fixture.emptyPost, isKeepAlive: true, isShutdownRequested: false)),
    ConnectionScript(
        "a body refused while read (no buffer left): the error in the request's version, then close",
        opened + [
            ScriptStep(.head(Fixture.post10, .accepted), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.bodyRefused, [.cancelBodyTimer, .sendError(.rejected, version: .http1_0), .closeLingering]),
            ScriptStep(.bodyRefused, []),
        ], ends: .closing),

    // Parse errors.
    ConnectionScript(
        "a malformed head: its error, then close",
        opened + [
            ScriptStep(
                .parseError(Fixture.badRequest),
                [
                    .cancelHeaderTimer, .sendError(.malformed(Fixture.badRequest), version: .http1_1),
                    .closeLingering,
                ]),
            ScriptStep(.parseError(Fixture.badRequest), []),
        ], ends: .closing),
    ConnectionScript(
        "a malformed body: the error in the request's version",
        opened + [
            ScriptStep(.head(Fixture.post10, .accepted), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(
                .parseError(Fixture.badRequest),
                [
                    .cancelBodyTimer, .sendError(.malformed(Fixture.badRequest), version: .http1_0),
                    .closeLingering,
                ]),
        ], ends: .closing),
    ConnectionScript(
        "a malformed next request (no deadline ran yet)",
        answeredPost + [
            ScriptStep(
                .parseError(Fixture.badRequest),
                [.sendError(.malformed(Fixture.badRequest), version: .http1_1), .closeLingering])
        ], ends: .closing),

    // Deadlines, in each phase.
    ConnectionScript(
        "no head before the first deadline: 408 and close",
        opened + [
            ScriptStep(.readFinished(isBetweenMessages: false), []),
            ScriptStep(
                .headerDeadline, [.cancelHeaderTimer, .sendError(.headerTimeout, version: .http1_1), .closeLingering]),
            ScriptStep(.headerDeadline, []),
            ScriptStep(.bodyDeadline, []),
        ], ends: .closing),
    ConnectionScript(
        "no head before a later request's deadline: 408 and close",
        answeredPost + [
            ScriptStep(.readFinished(isBetweenMessages: false), [.startHeaderTimer(Fixture.headerTimeout)]),
            ScriptStep(
                .headerDeadline, [.cancelHeaderTimer, .sendError(.headerTimeout, version: .http1_1), .closeLingering]),
        ], ends: .closing),
    ConnectionScript(
        "no body before its deadline: 408 in the request's version, then close",
        opened + [
            ScriptStep(.head(Fixture.post10, .accepted), [.cancelHeaderTimer, .startBodyTimer(Fixture.bodyTimeout)]),
            ScriptStep(.headerDeadline, []),
            ScriptStep(
                .bodyDeadline, [.cancelBodyTimer, .sendError(.bodyTimeout, version: .http1_0), .closeLingering]),
        ], ends: .closing),
    ConnectionScript(
        "no deadline runs while a request is answered or its answer is unread",
        awaitingPost + [
            ScriptStep(.headerDeadline, []),
            ScriptStep(.bodyDeadline, []),
            ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: false)]),
            ScriptStep(.headerDeadline, []),
            ScriptStep(.bodyDeadline, []),
        ], ends: .waitingForDrain),
    ConnectionScript(
        "idle timeout while reading a head", opened + [ScriptStep(.idleTimeout, [.cancelHeaderTimer, .close])],
        ends: .closed),
    ConnectionScript(
        "idle timeout while reading a body", readingPost + [ScriptStep(.idleTimeout, [.cancelBodyTimer, .close])],
        ends: .closed),
    ConnectionScript(
        "idle timeout while answering", awaitingPost + [ScriptStep(.idleTimeout, [.close])], ends: .closed),
    ConnectionScript(
        "idle timeout between requests, and during a lingering close",
        answeredPost + [
            ScriptStep(.shutdown, [.closeLingering]), ScriptStep(.idleTimeout, [.close]),
            ScriptStep(.idleTimeout, []),
        ], ends: .closed),

    // Shutdown.
    ConnectionScript(
        "shutdown before any head: close now", opened + [ScriptStep(.shutdown, [.cancelHeaderTimer, .closeLingering])],
        ends: .closing),
    ConnectionScript(
        "shutdown with part of a head: close now",
        answeredPost + [
            ScriptStep(.readFinished(isBetweenMessages: false), [.startHeaderTimer(Fixture.headerTimeout)]),
            ScriptStep(.shutdown, [.cancelHeaderTimer, .closeLingering]),
        ], ends: .closing),
    ConnectionScript(
        "shutdown between requests: close now", answeredPost + [ScriptStep(.shutdown, [.closeLingering])],
        ends: .closing),
    ConnectionScript(
        "shutdown while a body is read: the request is finished and answered with Connection: close",
        readingPost + [
            ScriptStep(.shutdown, []),
            ScriptStep(.complete(isKeepAlive: true), [.cancelBodyTimer, .dispatch(Fixture.post, Fixture.end())]),
            ScriptStep(.shutdown, []),
            ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: true), .closeLingering]),
            ScriptStep(.shutdown, []),
        ], ends: .closing),
    ConnectionScript(
        "shutdown while a request is answered: its answer closes",
        awaitingPost + [
            ScriptStep(.shutdown, []),
            ScriptStep(.response("ok"), [.sendResponse("ok", to: Fixture.post, isClosing: true), .closeLingering]),
            ScriptStep(.drained, []),
        ], ends: .closing),
    ConnectionScript(
        "shutdown while the last answer is unread: close now (the lingering close still sends it)",
        awaitingPost + [
            ScriptStep(.response("big"), [.sendResponse("big", to: Fixture.post, isClosing: false)]),
            ScriptStep(.shutdown, [.closeLingering]),
            ScriptStep(.drained, []),
        ], ends: .closing),
    ConnectionScript(
        "shutdown while a body is read, then its deadline: 408 and close",
        readingPost + [
            ScriptStep(.shutdown, []),
            ScriptStep(
                .bodyDeadline, [.cancelBodyTimer, .sendError(.bodyTimeout, version: .http1_1), .closeLingering]),
        ], ends: .closing),

    // The peer's FIN and the transport's close.
    ConnectionScript(
        "FIN with part of a head: lingering close; the phase and its deadline stay",
        opened + [
            ScriptStep(.fin, [.closeLingering]),
            ScriptStep(
                .headerDeadline, [.cancelHeaderTimer, .sendError(.headerTimeout, version: .http1_1), .closeLingering]),
        ], ends: .closing),
    ConnectionScript(
        "closed while a body is read: its timer is disarmed and nothing more happens",
        readingPost + [
            ScriptStep(.closed, [.cancelBodyTimer]),
            ScriptStep(.bodyDeadline, []),
            ScriptStep(.fin, []),
            ScriptStep(.shutdown, []),
            ScriptStep(.closed, []),
        ], ends: .closed),
    ConnectionScript(
        "closed while answering: the late answer is dropped",
        awaitingPost + [ScriptStep(.closed, []), ScriptStep(.response("late"), []), ScriptStep(.drained, [])],
        ends: .closed),
    ConnectionScript(
        "closed while reading a head: its timer is disarmed",
        opened + [ScriptStep(.closed, [.cancelHeaderTimer]), ScriptStep(.start, [])], ends: .closed),
]

/// `HTTP1ConnectionState` as a specification: tables of event sequences and the actions each event returns.
@Suite struct HTTP1ConnectionStateTests {
    @Test(arguments: connectionScripts)
    func script(_ script: ConnectionScript) {
        var state = ConnectionState(headerTimeout: Fixture.headerTimeout, bodyTimeout: Fixture.bodyTimeout)
        for (index, step) in script.steps.enumerated() {
            let actions = step.event.apply(to: &state)
            #expect(actions == step.actions, "step \(index + 1): \(step.event)")
        }
        #expect(state.phase == script.phase)
    }

    /// Which phases read requests (the server feeds its parser) and which count a body against the budget.
    @Test(arguments: [
        (ConnectionState.Phase.idle, true, false),
        (.readingHead, true, false),
        (.readingBody(Fixture.post, isShutdownRequested: false), true, true),
        (.awaitingResponse(Fixture.post, isKeepAlive: true, isShutdownRequested: false), false, false),
        (.waitingForDrain, false, false),
        (.closing, false, false),
        (.closed, false, false),
    ])
    func readingPerPhase(phase: ConnectionState.Phase, isReadingRequests: Bool, isReadingBody: Bool) {
        var state = ConnectionState(headerTimeout: Fixture.headerTimeout, bodyTimeout: Fixture.bodyTimeout)
        let steps: [ConnectionEvent] =
            switch phase {
            case .idle: []
            case .readingHead: [.start]
            case .readingBody: [.start, .head(Fixture.post, .accepted)]
            case .awaitingResponse: [.start, .head(Fixture.post, .accepted), .complete(isKeepAlive: true)]
            case .waitingForDrain:
                [.start, .head(Fixture.post, .accepted), .complete(isKeepAlive: true), .response("ok")]
            case .closing: [.start, .shutdown]
            case .closed: [.closed]
            }
        for event in steps { _ = event.apply(to: &state) }
        #expect(state.phase == phase)
        #expect(state.isReadingRequests == isReadingRequests)
        #expect(state.isReadingBody == isReadingBody)
    }
}
