import HTTP1
import Testing

/// `HTTP1ConnectionState` explored and driven: every event sequence a server can report (up to the point where no
/// new situation appears) keeps the lifecycle's invariants, and a real parser's pipelined requests come out one at a
/// time, in order.
@Suite struct HTTP1ConnectionStateModelTests {
    /// A situation: the phase plus what the server's side looks like after performing every action so far.
    struct Node: Equatable {
        var phase: ConnectionState.Phase
        var isHeaderTimerArmed = false
        var isBodyTimerArmed = false
        var isReadingPaused = false
        var unansweredRequests = 0
    }

    static let heads = [
        Fixture.get, Fixture.post, Fixture.postExpecting, Fixture.chunkedPost, Fixture.emptyPost,
        Fixture.post10,
    ]
    static let verdicts: [HTTP1HeadVerdict] = [.accepted, .refused, .refusedUnread]

    /// The events a server can report in a situation (the parser only reports a head when no head is pending, an
    /// end only after a head; a timer only fires while armed; an answer only comes for a dispatched request).
    static func events(in node: Node) -> [ConnectionEvent] {
        var events: [ConnectionEvent] = [
            .drained, .shutdown, .idleTimeout, .closed, .fin,
            .readFinished(isBetweenMessages: true), .readFinished(isBetweenMessages: false),
        ]
        switch node.phase {
        case .idle, .readingHead:
            for head in heads { for verdict in verdicts { events.append(.head(head, verdict)) } }
            events += [.parseError(Fixture.badRequest), .requestsEnded]
        case .readingBody:
            events += [
                .complete(isKeepAlive: true), .complete(isKeepAlive: false), .parseError(Fixture.badRequest),
                .bodyRefused,
            ]
        default:
            break
        }
        if node.isHeaderTimerArmed { events.append(.headerDeadline) }
        if node.isBodyTimerArmed { events.append(.bodyDeadline) }
        if node.unansweredRequests > 0 { events.append(.response("ok")) }
        return events
    }

    @Test func everyReachableSituationKeepsTheInvariants() {
        var state = ConnectionState(headerTimeout: Fixture.headerTimeout, bodyTimeout: Fixture.bodyTimeout)
        _ = state.start(headerTimeRemaining: Fixture.headerTimeRemaining)
        var visited = [Node(phase: state.phase, isHeaderTimerArmed: true)]
        var queue = [(state, visited[0])]
        var transitions = 0
        while let (state, node) = queue.popLast() {
            for event in Self.events(in: node) {
                var next = state
                var after = node
                if case .headerDeadline = event { after.isHeaderTimerArmed = false }
                if case .bodyDeadline = event { after.isBodyTimerArmed = false }
                let actions = event.apply(to: &next)
                transitions += 1
                let context = "\(node.phase) + \(event) → \(actions)"
                Self.perform(actions, on: &after, context: context)
                after.phase = next.phase
                Self.check(after, before: node, event: event, actions: actions, context: context)
                if !visited.contains(after) {
                    visited.append(after)
                    queue.append((next, after))
                }
            }
        }
        #expect(visited.count > 20, "explored \(visited.count) situations in \(transitions) transitions")
    }

    /// Applies actions to a situation, checking the ones that must come in pairs or once.
    static func perform(_ actions: [ConnectionAction], on node: inout Node, context: String) {
        for (index, action) in actions.enumerated() {
            let next = index + 1 < actions.count ? actions[index + 1] : nil
            switch action {
            case .startHeaderTimer:
                #expect(!node.isHeaderTimerArmed, "armed twice: \(context)")
                node.isHeaderTimerArmed = true
            case .cancelHeaderTimer:
                node.isHeaderTimerArmed = false
            case .startBodyTimer:
                #expect(!node.isBodyTimerArmed, "armed twice: \(context)")
                node.isBodyTimerArmed = true
            case .cancelBodyTimer:
                node.isBodyTimerArmed = false
            case .pauseReading:
                node.isReadingPaused = true
            case .resumeReading:
                node.isReadingPaused = false
            case .dispatch:
                #expect(node.unansweredRequests == 0, "one request at a time: \(context)")
                node.unansweredRequests += 1
            case .sendResponse(_, _, let isClosing):
                node.unansweredRequests -= 1
                if isClosing { #expect(next == .closeLingering, "a closing answer closes: \(context)") }
            case .sendError:
                #expect(next == .closeLingering, "an error closes: \(context)")
            case .sendContinue, .closeLingering, .close:
                break
            }
        }
    }

    /// The lifecycle's invariants after one transition.
    static func check(
        _ node: Node, before: Node, event: ConnectionEvent, actions: [ConnectionAction],
        context: String
    ) {
        // Each deadline's timer runs exactly while its phase lasts.
        #expect(node.isHeaderTimerArmed == (node.phase == .readingHead), "header timer: \(context)")
        let isReadingBody = if case .readingBody = node.phase { true } else { false }
        #expect(node.isBodyTimerArmed == isReadingBody, "body timer: \(context)")
        // A dispatched request is answered before anything else is read.
        let isAnswering = if case .awaitingResponse = node.phase { true } else { false }
        if isAnswering { #expect(node.unansweredRequests == 1, "answering: \(context)") }
        // (A request still unanswered when the connection closed stays so: its late answer is dropped.)
        if node.phase != .closed { #expect(node.unansweredRequests == (isAnswering ? 1 : 0), "\(context)") }
        // Reading is paused at the end of every delivery while an answer is awaited or unread, and resumes only
        // into the idle phase.
        if case .readFinished = event, isAnswering || node.phase == .waitingForDrain {
            #expect(node.isReadingPaused, "paused: \(context)")
        }
        if actions.contains(.resumeReading) { #expect(node.phase == .idle, "resumed: \(context)") }
        // Error answers and closing answers end in the closing phase; closed is final and silent.
        if actions.contains(where: { if case .sendError = $0 { true } else { false } }) {
            #expect(node.phase == .closing, "error closes: \(context)")
        }
        if before.phase == .closed { #expect(actions.isEmpty && node.phase == .closed, "closed is final: \(context)") }
    }

    @Test(arguments: [true, false])
    func pipelinedRequestsAreDispatchedOneAtATimeInOrder(isAnsweringAtOnce: Bool) {
        var loop = ConnectionLoop(isAnsweringAtOnce: isAnsweringAtOnce)
        loop.receive(
            wire(
                "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                    + "GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
                    + "GET /never HTTP/1.1\r\nHost: t\r\n\r\n"))
        if !isAnsweringAtOnce {
            // Answered later: one dispatched, reading paused, the rest waits in the transport.
            #expect(loop.dispatched == ["/a"])
            #expect(loop.isReadingPaused)
            loop.answer()
            #expect(loop.dispatched == ["/a", "/b"])
            loop.answer()
            loop.answer()
        }
        #expect(loop.dispatched == ["/a", "/b", "/c"], "the request after Connection: close is never read")
        #expect(loop.sent.map(\.answer) == ["/a", "/b", "/c"])
        #expect(loop.sent.map(\.isClosing) == [false, false, true])
        #expect(loop.isClosing)
        #expect(loop.state.phase == .closing)
    }

    @Test func aRequestSplitAtEveryByteIsDispatchedOnceAndItsFirstByteStartsTheHeaderDeadline() {
        let request = wire("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        for cut in 1..<request.count {
            var loop = ConnectionLoop(isAnsweringAtOnce: true)
            loop.receive(Array(request[..<cut]))
            #expect(loop.dispatched.isEmpty)
            loop.receive(Array(request[cut...]))
            #expect(loop.dispatched == ["/p"], "cut at \(cut)")
            #expect(loop.state.phase == .idle)
            // The next request's first byte starts a header deadline.
            loop.receive(wire("G"))
            #expect(loop.state.phase == .readingHead)
        }
    }
}
