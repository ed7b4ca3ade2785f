import HTTP1
import Testing

/// The bytes of a string (wire text in tests spells out every `\r\n`).
func wire(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Every way the tests cut one input into arrival pieces: whole, split in two at every position, and one byte at a
/// time. Inputs longer than `maxSplitLength` are only fed whole and byte by byte, to keep the suite fast.
func arrivalPatterns(of input: [UInt8], maxSplitLength: Int = 2048) -> [[[UInt8]]] {
    var patterns: [[[UInt8]]] = [[input]]
    if input.count <= maxSplitLength {
        for cut in 1..<max(1, input.count) { patterns.append([Array(input[..<cut]), Array(input[cut...])]) }
    }
    patterns.append(input.map { [$0] })
    return patterns
}

/// What a server loop saw after feeding a request parser.
struct RequestFeed {
    /// Events in order, `.needMoreData` left out and consecutive `.body` pieces joined.
    var events: [HTTPRequestParser.Event] = []
    /// Bytes the parser consumed in all.
    var consumed = 0
    /// The parser after the last piece.
    var parser: HTTPRequestParser
}

/// Feeds pieces to a request parser exactly as a server loop does: for each piece that arrives, call `parse` on the
/// unconsumed bytes until `.needMoreData`, stopping for good at `.error` or `.closed`. Checks the calling contract
/// and the accounting invariant on the way: `.needMoreData` consumes everything, no step consumes more than it was
/// given, and bytes consumed = totals of completed requests + bytes of the request in progress.
func feedRequests(
    _ pieces: [[UInt8]], limits: HTTPLimits = .standard, delivery: HTTPBodyDelivery = .accumulated
) -> RequestFeed {
    var feed = RequestFeed(parser: HTTPRequestParser(limits: limits, bodyDelivery: delivery))
    var completedBytes = 0
    pieces: for piece in pieces {
        var pending = piece[...]
        while true {
            let step = feed.parser.parse(pending)
            #expect(step.consumed >= 0 && step.consumed <= pending.count)
            feed.consumed += step.consumed
            pending = pending.dropFirst(step.consumed)
            switch step.event {
            case .needMoreData:
                #expect(pending.isEmpty, "needMoreData must consume every byte given")
                continue pieces
            case .body(let payload):
                if case .body(let previous) = feed.events.last {
                    feed.events[feed.events.count - 1] = .body(previous + payload)
                } else {
                    feed.events.append(.body(payload))
                }
            case .end(let end):
                completedBytes += end.bytes.total
                feed.events.append(step.event)
            case .error, .closed:
                #expect(step.consumed == 0 || step.event != .closed)
                feed.events.append(step.event)
                break pieces
            case .head:
                feed.events.append(step.event)
            }
        }
    }
    #expect(feed.consumed == completedBytes + feed.parser.messageBytes.total, "every consumed byte is accounted")
    return feed
}

/// A request as the tests describe it: what the head and end events of one request should say.
struct ParsedRequest: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var version: HTTPVersion = .http1_1
    var headers: [HTTPField] = []
    var framing: HTTPBodyFraming = .noBody
    var isKeepAlive = true
    var expectsContinue = false
    var body: [UInt8] = []
    var trailers: [HTTPField] = []
    var bytes = HTTPMessageBytes()

    var description: String {
        "\(method) \(target) \(version) \(framing) keepAlive=\(isKeepAlive) continue=\(expectsContinue) "
            + "body=\(body.count)B trailers=\(trailers) bytes=\(bytes) headers=\(headers)"
    }
}

/// Pairs up `.head` and `.end` events into requests; nil when the events are not head, [body], end repeated
/// (an error or `.closed` at the end is allowed and ignored).
func requests(in events: [HTTPRequestParser.Event]) -> [ParsedRequest]? {
    var result: [ParsedRequest] = []
    var current: ParsedRequest?
    for event in events {
        switch event {
        case .head(let head):
            guard current == nil else { return nil }
            current = ParsedRequest(
                method: head.method, target: head.target, version: head.version, headers: Array(head.headers),
                framing: head.framing, isKeepAlive: head.isKeepAlive, expectsContinue: head.expectsContinue,
                bytes: HTTPMessageBytes(head: head.byteCount))
        case .body(let payload):
            guard current != nil else { return nil }
            current!.body += payload
        case .end(let end):
            guard var request = current, end.bytes.head == request.bytes.head, end.isKeepAlive == request.isKeepAlive
            else { return nil }
            request.body += end.body
            request.trailers = Array(end.trailers)
            request.bytes = end.bytes
            result.append(request)
            current = nil
        case .needMoreData, .error, .closed:
            continue
        }
    }
    return current == nil ? result : nil
}

/// The last event, when it is an error.
func parseError(in events: [HTTPRequestParser.Event]) -> HTTPParseError? {
    if case .error(let error) = events.last { error } else { nil }
}
