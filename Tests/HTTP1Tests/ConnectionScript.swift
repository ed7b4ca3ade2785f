import HTTP1
import Testing

/// The state machine the tests drive; the server's answer is a string.
typealias ConnectionState = HTTP1ConnectionState<String>
/// What it asks the server to do.
typealias ConnectionAction = ConnectionState.Action

/// One event a server reports to `HTTP1ConnectionState`, as data, so tables can list sequences of them.
enum ConnectionEvent: Sendable, CustomStringConvertible {
    case start
    case head(HTTPRequestHead, HTTP1HeadVerdict)
    case complete(isKeepAlive: Bool)
    case parseError(HTTPParseError)
    case requestsEnded
    case bodyRefused
    case readFinished(isBetweenMessages: Bool)
    case response(String)
    case drained
    case headerDeadline
    case bodyDeadline
    case idleTimeout
    case shutdown
    case fin
    case closed

    /// Reports the event; returns the actions.
    func apply(to state: inout ConnectionState) -> [ConnectionAction] {
        switch self {
        case .start: state.start(headerTimeRemaining: Fixture.headerTimeRemaining)
        case .head(let head, let verdict): state.headReceived(head, verdict: verdict)
        case .complete(let isKeepAlive): state.requestComplete(Fixture.end(isKeepAlive: isKeepAlive))
        case .parseError(let error): state.parseFailed(error)
        case .requestsEnded: state.requestsEnded()
        case .bodyRefused: state.bodyRefused()
        case .readFinished(let isBetweenMessages): state.readFinished(isBetweenMessages: isBetweenMessages)
        case .response(let response): state.responseReady(response)
        case .drained: state.outputDrained()
        case .headerDeadline: state.headerDeadlineExpired()
        case .bodyDeadline: state.bodyDeadlineExpired()
        case .idleTimeout: state.idleTimeoutExpired()
        case .shutdown: state.shutdownRequested()
        case .fin: state.peerClosed()
        case .closed: state.closed()
        }
    }

    var description: String {
        switch self {
        case .head(let head, let verdict): "head(\(head.method) \(head.target), \(verdict))"
        case .complete(let isKeepAlive): isKeepAlive ? "complete" : "complete(close)"
        case .parseError(let error): "parseError(\(error))"
        case .readFinished(let isBetweenMessages): isBetweenMessages ? "readFinished" : "readFinished(partial)"
        case .response(let response): "response(\(response))"
        case .start: "start"
        case .requestsEnded: "requestsEnded"
        case .bodyRefused: "bodyRefused"
        case .drained: "drained"
        case .headerDeadline: "headerDeadline"
        case .bodyDeadline: "bodyDeadline"
        case .idleTimeout: "idleTimeout"
        case .shutdown: "shutdown"
        case .fin: "fin"
        case .closed: "closed"
        }
    }
}

/// Heads, ends and durations the tables share.
enum Fixture {
    static let headerTimeout = Duration.seconds(10)
    static let bodyTimeout = Duration.seconds(30)
    /// What is left of the first head's deadline when the sniffer hands the connection over.
    static let headerTimeRemaining = Duration.seconds(7)

    static let get = HTTPRequestHead(method: "GET", target: "/healthz")
    static let get2 = HTTPRequestHead(method: "GET", target: "/metrics")
    static let post = HTTPRequestHead(method: "POST", target: "/v1/devices/d1/readings", framing: .contentLength(12))
    static let postExpecting = HTTPRequestHead(
        method: "POST", target: "/v1/devices/d1/readings", framing: .contentLength(12), expectsContinue: true)
    static let emptyPost = HTTPRequestHead(
        method: "POST", target: "/v1/devices/d1/readings", framing: .contentLength(0))
    static let chunkedPost = HTTPRequestHead(method: "POST", target: "/v1/devices/d1/readings", framing: .chunked)
    static let post10 = HTTPRequestHead(
        method: "POST", target: "/v1/devices/d1/readings", version: .http1_0, framing: .contentLength(12))

    static let badRequest = HTTPParseError(HTTPStatus(code: 400), "bare LF")

    /// A request's end as the parser reports it.
    static func end(isKeepAlive: Bool = true) -> HTTPMessageEnd {
        HTTPMessageEnd(bytes: HTTPMessageBytes(), isKeepAlive: isKeepAlive)
    }
}

/// One event and the actions it must return.
struct ScriptStep: Sendable {
    var event: ConnectionEvent
    var actions: [ConnectionAction]

    init(_ event: ConnectionEvent, _ actions: [ConnectionAction]) {
        self.event = event
        self.actions = actions
    }
}

/// A table row: events in order, the actions each returns, and the phase left at the end.
struct ConnectionScript: Sendable, CustomTestStringConvertible {
    var name: String
    var steps: [ScriptStep]
    var phase: ConnectionState.Phase
    var testDescription: String { name }

    init(_ name: String, _ steps: [ScriptStep], ends phase: ConnectionState.Phase) {
        self.name = name
        self.steps = steps
        self.phase = phase
    }
}
