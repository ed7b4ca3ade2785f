/// The client side's incremental HTTP/1.1 response parser, for the device simulator: bytes in, one event and a
/// consumed-byte count out, with the same calling convention, limits and accounting as `HTTPRequestParser`.
///
/// Events per exchange: zero or more `.interim` (1xx responses such as `100 Continue`, each with its own byte
/// count in `byteCount`; the parser skips past them to the final response), then `.head`, `.body` pieces (streamed
/// delivery only) and `.end`. A body is framed by Content-Length, chunked coding, or the connection's end: for the
/// last kind, call `parseEndOfInput()` when the peer closes, which completes the body. The sum of the interim heads'
/// byte counts and the final responses' `.end` totals equals the bytes fed.
///
/// Responses are matched to requests in order; the parser only needs to know about requests whose responses have no
/// body although they may declare one: call `expectResponse(to: "HEAD")` for each HEAD request sent. 101 Switching
/// Protocols ends HTTP on the connection: it is reported as a final response without body, then `.closed`.
/// Errors are terminal; the status in an error only classifies the fault (it is not sent anywhere).
public struct HTTPResponseParser: Sendable, HTTPMessageParser {
    /// What one parse step found.
    public enum Event: Sendable, Equatable, HTTPBodyEvents {
        /// All bytes given were consumed and no event is complete yet.
        case needMoreData
        /// An interim (1xx) response, already skipped; the final response follows.
        case interim(HTTPResponseHead)
        /// A final response head is complete; its body (if any) follows.
        case head(HTTPResponseHead)
        /// A piece of body payload (streamed delivery only), chunk framing removed.
        case body([UInt8])
        /// The response is complete: the whole body (accumulated delivery), trailers and byte counts.
        case end(HTTPMessageEnd)
        /// The response is malformed or over a limit: close the connection.
        case error(HTTPParseError)
        /// The connection carries no more responses (the last was not keep-alive, or the peer closed between
        /// responses).
        case closed
    }

    /// One event and the number of bytes consumed from the front of the input to produce it.
    public typealias Step = HTTPParseStep<Event>

    /// Where the parser is.
    typealias Phase = MessagePhase

    /// The limits in force.
    public let limits: HTTPLimits
    /// How body payload reaches the caller.
    public let bodyDelivery: HTTPBodyDelivery
    /// Bytes of the response in progress taken so far (zero between responses).
    public internal(set) var messageBytes = HTTPMessageBytes()

    /// Where the parser is.
    var phase = Phase.head
    /// Reads the head being parsed; emptied when the head is reported.
    var headReader = HeadReader(kind: .response)
    /// The status line of the head being parsed, once read.
    var statusLine: (version: HTTPVersion, status: HTTPStatus)?
    /// What the framing fields of the head being parsed say.
    var framingFields = FramingFields()
    /// Decodes the body of the response whose head was reported.
    var bodyDecoder = BodyDecoder(framing: .noBody, limits: .standard)
    /// The body collected so far (accumulated delivery).
    var bodyBuffer: [UInt8] = []
    /// Whether the connection stays open after the current response.
    var isKeepAlive = true
    /// For each request sent and not yet answered (as far as the caller told us), whether it was HEAD.
    var pendingHEADRequests: [Bool] = []
    /// Whether an interim response was read and its final response has not started.
    var isAwaitingFinalResponse = false

    /// A parser at the start of a connection.
    public init(limits: HTTPLimits = .standard, bodyDelivery: HTTPBodyDelivery = .accumulated) {
        self.limits = limits
        self.bodyDelivery = bodyDelivery
    }

    /// Records that a request with this method was sent, so its response is framed right (a response to HEAD has
    /// no body). Responses without a recorded request are framed as answers to GET.
    public mutating func expectResponse(to method: String) {
        pendingHEADRequests.append(method == "HEAD")
    }

    /// Whether no byte of a next response has been taken and no final response is pending after an interim one.
    public var isBetweenMessages: Bool { phase == .head && messageBytes.head == 0 && !isAwaitingFinalResponse }

    /// Parses from the front of `input`; see `HTTPRequestParser` for the calling convention.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> Step {
        switch phase {
        case .head: parseHead(input)
        case .body: parseBody(input)
        case .closed: Step(.closed, consumed: 0)
        case .failed(let error): Step(.error(error), consumed: 0)
        }
    }

    /// Parses from the front of an array slice.
    public mutating func parse(_ input: ArraySlice<UInt8>) -> Step {
        input.withUnsafeBytes { parse($0) }
    }

    /// Parses from the front of an array.
    public mutating func parse(_ input: [UInt8]) -> Step {
        input.withUnsafeBytes { parse($0) }
    }

    /// The peer closed the connection: completes a body delimited by close (`.end`), reports `.closed` between
    /// responses, and an error when a response was cut short. Consumes nothing; later calls report `.closed`.
    public mutating func parseEndOfInput() -> Step {
        switch phase {
        case .closed:
            return Step(.closed, consumed: 0)
        case .failed(let error):
            return Step(.error(error), consumed: 0)
        case .head:
            guard messageBytes.head == 0, !isAwaitingFinalResponse else {
                return fail(HTTPParseError(.badRequest, "connection closed before the response was complete"))
            }
            phase = .closed
            return Step(.closed, consumed: 0)
        case .body:
            switch bodyDecoder.finishAtEndOfInput() {
            case .complete:
                isKeepAlive = false
                return finishMessage(consumed: 0)
            case .failed(let error):
                return fail(error)
            case .data, .needMoreData:
                preconditionFailure("a body decoder finishing at end of input completes or fails")
            }
        }
    }
}
