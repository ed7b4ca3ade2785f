/// The server side's incremental HTTP/1.1 request parser: bytes in, one event and a consumed-byte count out.
///
/// **Design.** The caller owns the read buffer. Each `parse` call takes bytes from the front of what it is given and
/// returns one `Step`: an event and how many bytes it consumed. The caller drops those bytes and calls again with
/// the rest (even when the rest is empty) until the event is `.needMoreData`, which always consumes everything it
/// was given: the parser keeps a partial head (bounded by the limits) and the accumulated body itself, so no byte is
/// ever given twice. Events per request, in order: `.head`, then `.body` pieces (streamed delivery only), then `.end`.
/// The parser never reads past the message it is on within one call, so pipelined requests come out one by one
/// and a server can stop after any event (to send `100 Continue`, or to refuse and close).
///
/// **Accounting.** Every byte fed is consumed exactly once and belongs to exactly one message: the head counts from
/// the message's first byte (empty lines before the request line included) through its blank line; the body counts
/// its whole wire encoding (see `HTTPMessageBytes`). `.end` carries the request's counts; summed over requests they
/// equal the bytes fed, except the bytes of a request that is still incomplete (`messageBytes`) or refused.
///
/// **Errors** are terminal: `.error` carries the status to answer with (then close) and a message naming the fault;
/// its step consumes the bytes examined, through the offending one, and every later call repeats the error,
/// consuming nothing. After a request that is not keep-alive, the parser is `.closed` and consumes nothing more:
/// what follows such a request is not read as HTTP (RFC 9112 §9.6; a chunked HTTP/1.0 request closes, §6.1).
public struct HTTPRequestParser: Sendable, HTTPMessageParser {
    /// What one parse step found.
    public enum Event: Sendable, Equatable, HTTPBodyEvents {
        /// All bytes given were consumed and no event is complete yet.
        case needMoreData
        /// A request head is complete; its body (if any) follows.
        case head(HTTPRequestHead)
        /// A piece of body payload (streamed delivery only), chunk framing removed.
        case body([UInt8])
        /// The request is complete: the whole body (accumulated delivery), trailers and byte counts.
        case end(HTTPMessageEnd)
        /// The request is refused: answer with the error's status, then close the connection.
        case error(HTTPParseError)
        /// The previous request was not keep-alive: the connection carries no more requests.
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
    /// Bytes of the message in progress taken so far (zero between messages).
    public internal(set) var messageBytes = HTTPMessageBytes()

    /// Where the parser is.
    var phase = Phase.head
    /// Reads the head being parsed; emptied when the head is reported.
    var headReader = HeadReader(kind: .request)
    /// The request line of the head being parsed, once read.
    var requestLine: RequestLine?
    /// What the framing fields of the head being parsed say.
    var framingFields = FramingFields()
    /// What Host and Expect in the head being parsed say.
    var requestFields = RequestFields()
    /// Decodes the body of the request whose head was reported.
    var bodyDecoder = BodyDecoder(framing: .noBody, limits: .standard)
    /// The body collected so far (accumulated delivery).
    var bodyBuffer: [UInt8] = []
    /// Whether the connection stays open after the current request.
    var isKeepAlive = true

    /// A parser at the start of a connection.
    public init(limits: HTTPLimits = .standard, bodyDelivery: HTTPBodyDelivery = .accumulated) {
        self.limits = limits
        self.bodyDelivery = bodyDelivery
    }

    /// Whether no byte of a next request has been taken (the connection is idle between requests), as opposed to
    /// a head or body in progress: a server's idle and header timeouts differ.
    public var isBetweenMessages: Bool { phase == .head && messageBytes.head == 0 }

    /// Parses from the front of `input`; see the type's documentation for the calling convention.
    public mutating func parse(_ input: UnsafeRawBufferPointer) -> Step {
        switch phase {
        case .head: parseHead(input)
        case .body: parseBody(input)
        case .closed: Step(.closed, consumed: 0)
        case .failed(let error): Step(.error(error), consumed: 0)
        }
    }

    /// Parses from the front of an array slice (for example `buffer[offset...]`).
    public mutating func parse(_ input: ArraySlice<UInt8>) -> Step {
        input.withUnsafeBytes { parse($0) }
    }

    /// Parses from the front of an array.
    public mutating func parse(_ input: [UInt8]) -> Step {
        input.withUnsafeBytes { parse($0) }
    }
}
