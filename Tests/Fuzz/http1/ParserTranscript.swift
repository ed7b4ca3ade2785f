// Feeding one input to an HTTP/1.1 parser the way a connection loop does, in any arrival pattern, while checking the
// calling contract, the byte accounting and the buffering bounds after every step; the result is a transcript that
// must not depend on how the bytes arrived.

/// What a parser event means to the feeding loop.
enum EventRole {
    case needMoreData
    /// A final head: its byte count, framing and persistence, and how many fields it has.
    case head(byteCount: Int, framing: HTTPBodyFraming, isKeepAlive: Bool, fieldCount: Int)
    /// An interim (1xx) response head and its byte count.
    case interim(byteCount: Int)
    case body([UInt8])
    case end(HTTPMessageEnd)
    /// `.error` or `.closed`: the connection carries nothing more.
    case stop
}

/// The two parsers behind one interface, so one feeding loop checks both.
protocol FuzzedHTTPParser {
    associatedtype Event: Sendable & Equatable
    init(limits: HTTPLimits, bodyDelivery: HTTPBodyDelivery)
    var limits: HTTPLimits { get }
    var messageBytes: HTTPMessageBytes { get }
    var isBetweenMessages: Bool { get }
    mutating func parse(_ input: UnsafeRawBufferPointer) -> HTTPParseStep<Event>
    /// The peer closed the connection: the step that reports it, or nil when this parser has no such notion.
    mutating func endOfInput() -> HTTPParseStep<Event>?
    static func role(of event: Event) -> EventRole
    static func endEvent(_ end: HTTPMessageEnd) -> Event
    /// Bytes held between calls: head storage, accumulated body, chunk-size line and trailers.
    var buffered: (head: Int, body: Int, framing: Int) { get }
}

/// One event and the count of bytes consumed from the start of the input when it was reported.
struct Stamped<Event: Equatable>: Equatable {
    var event: Event
    var offset: Int
}

/// Everything a connection loop can observe from feeding one input.
struct Transcript<Event: Equatable>: Equatable {
    /// Events in order, `.needMoreData` left out; streamed body pieces folded into the `.end` that follows them.
    var events: [Stamped<Event>] = []
    /// Bytes consumed in all.
    var consumed = 0
    /// The parser's count for the message in progress at the end.
    var messageBytes = HTTPMessageBytes()
    /// Whether the parser ended between messages.
    var isBetweenMessages = false
}

/// Feeds `input` cut into pieces of the given lengths, then (when the parser has the notion) reports the peer's
/// close. `prepare` runs on the fresh parser (a response parser is told which requests were HEAD).
func feed<Parser: FuzzedHTTPParser>(
    _: Parser.Type, _ input: UnsafeRawBufferPointer, pieces: [Int], limits: HTTPLimits, delivery: HTTPBodyDelivery,
    prepare: (inout Parser) -> Void = { _ in }
) -> Transcript<Parser.Event> {
    var parser = Parser(limits: limits, bodyDelivery: delivery)
    prepare(&parser)
    var transcript = Transcript<Parser.Event>()
    var accounted = 0  // bytes of interim heads and completed messages
    var streamedBody: [UInt8] = []
    var currentHead: (framing: HTTPBodyFraming, isKeepAlive: Bool)?
    var isStopped = false

    func take(_ step: HTTPParseStep<Parser.Event>) {
        checkBuffered(parser.buffered, limits)
        switch Parser.role(of: step.event) {
        case .needMoreData:
            return
        case .head(let byteCount, let framing, let isKeepAlive, let fieldCount):
            require(byteCount == parser.messageBytes.head, "head byteCount \(byteCount) != \(parser.messageBytes)")
            require(byteCount <= maxHeadBytes(limits), "head of \(byteCount) bytes is over the limits")
            require(fieldCount <= limits.maxHeaderFields, "\(fieldCount) header fields over the limit")
            currentHead = (framing, isKeepAlive)
            transcript.events.append(Stamped(event: step.event, offset: transcript.consumed))
        case .interim(let byteCount):
            require(byteCount <= maxHeadBytes(limits), "interim head of \(byteCount) bytes is over the limits")
            accounted += byteCount
            transcript.events.append(Stamped(event: step.event, offset: transcript.consumed))
        case .body(let payload):
            require(delivery == .streamed, "a body event in accumulated delivery")
            require(!payload.isEmpty, "an empty body event")
            streamedBody += payload
        case .end(var end):
            guard let head = currentHead else { return require(false, "end without head") }
            accounted += end.bytes.total
            require(end.isKeepAlive == head.isKeepAlive || head.framing == .untilClose, "end and head disagree")
            require(end.bytes.body <= limits.maxBodyBytes, "body of \(end.bytes.body) bytes over the limit")
            require(end.trailers.count <= limits.maxHeaderFields, "too many trailer fields")
            if delivery == .streamed {
                require(end.body.isEmpty, "streamed delivery with a body in .end")
                end.body = streamedBody
            }
            require(end.body.count == end.bytes.payload, "body \(end.body.count) bytes, payload \(end.bytes)")
            if case .contentLength(let length) = head.framing {
                require(end.body.count == length && end.bytes.chunkFraming == 0, "Content-Length \(length) not met")
            }
            streamedBody = []
            currentHead = nil
            transcript.events.append(Stamped(event: Parser.endEvent(end), offset: transcript.consumed))
        case .stop:
            isStopped = true
            transcript.events.append(Stamped(event: step.event, offset: transcript.consumed))
        }
        require(
            transcript.consumed == accounted + parser.messageBytes.total,
            "consumed \(transcript.consumed) != accounted \(accounted) + in progress \(parser.messageBytes)")
    }

    var start = 0
    pieces: for length in pieces {
        var pending = UnsafeRawBufferPointer(rebasing: input[start..<(start + length)])
        start += length
        while !isStopped {
            let step = parser.parse(pending)
            require(
                step.consumed >= 0 && step.consumed <= pending.count, "consumed \(step.consumed) of \(pending.count)")
            transcript.consumed += step.consumed
            pending = UnsafeRawBufferPointer(rebasing: pending[step.consumed...])
            take(step)
            if case .needMoreData = Parser.role(of: step.event) {
                require(pending.isEmpty, "needMoreData left \(pending.count) bytes unconsumed")
                continue pieces
            }
        }
        break
    }
    while !isStopped, let step = parser.endOfInput() {
        require(step.consumed == 0, "end of input consumed bytes")
        take(step)
    }
    transcript.messageBytes = parser.messageBytes
    transcript.isBetweenMessages = parser.isBetweenMessages
    return transcript
}

/// The most bytes a head may take within the limits: leading empty lines, start line, field lines, blank line.
func maxHeadBytes(_ limits: HTTPLimits) -> Int {
    2 * limits.maxLeadingEmptyLines + limits.maxStartLineBytes + 2 + limits.maxHeaderSectionBytes + 2
}

/// What a parser holds between calls stays within the limits: the partial head within the start-line and header
/// limits, the accumulated body within the body limit, a chunk-size line and trailers within theirs.
func checkBuffered(_ buffered: (head: Int, body: Int, framing: Int), _ limits: HTTPLimits) {
    require(buffered.head <= limits.maxStartLineBytes + limits.maxHeaderSectionBytes, "head buffer \(buffered.head)")
    require(buffered.body <= limits.maxBodyBytes, "body buffer \(buffered.body) over \(limits.maxBodyBytes)")
    require(buffered.framing <= limits.maxChunkLineBytes + limits.maxHeaderSectionBytes, "framing \(buffered.framing)")
}

extension HTTPRequestParser: FuzzedHTTPParser {
    mutating func endOfInput() -> HTTPParseStep<Event>? { nil }

    static func role(of event: Event) -> EventRole {
        switch event {
        case .needMoreData: .needMoreData
        case .head(let head):
            .head(
                byteCount: head.byteCount, framing: head.framing, isKeepAlive: head.isKeepAlive,
                fieldCount: head.headers.count)
        case .body(let payload): .body(payload)
        case .end(let end): .end(end)
        case .error, .closed: .stop
        }
    }

    static func endEvent(_ end: HTTPMessageEnd) -> Event { .end(end) }

    var buffered: (head: Int, body: Int, framing: Int) {
        (headReader.storage.count, bodyBuffer.count, bodyDecoder.bufferedBytes)
    }
}

extension HTTPResponseParser: FuzzedHTTPParser {
    mutating func endOfInput() -> HTTPParseStep<Event>? { parseEndOfInput() }

    static func role(of event: Event) -> EventRole {
        switch event {
        case .needMoreData: .needMoreData
        case .interim(let head): .interim(byteCount: head.byteCount)
        case .head(let head):
            .head(
                byteCount: head.byteCount, framing: head.framing, isKeepAlive: head.isKeepAlive,
                fieldCount: head.headers.count)
        case .body(let payload): .body(payload)
        case .end(let end): .end(end)
        case .error, .closed: .stop
        }
    }

    static func endEvent(_ end: HTTPMessageEnd) -> Event { .end(end) }

    var buffered: (head: Int, body: Int, framing: Int) {
        (headReader.storage.count, bodyBuffer.count, bodyDecoder.bufferedBytes)
    }
}
