import HTTP1
import Testing

/// What a client loop saw after feeding a response parser.
struct ResponseFeed {
    /// Events in order, `.needMoreData` left out and consecutive `.body` pieces joined.
    var events: [HTTPResponseParser.Event] = []
    /// Bytes the parser consumed in all.
    var consumed = 0
    /// The parser after the last piece.
    var parser: HTTPResponseParser
}

/// Feeds pieces to a response parser as a client loop does (see `feedRequests`), then, when `peerCloses`, reports
/// the end of input. Checks the calling contract and that bytes consumed = interim heads + completed responses +
/// the response in progress.
func feedResponses(
    _ pieces: [[UInt8]], peerCloses: Bool = false, headRequests: Int = 0, limits: HTTPLimits = .standard,
    delivery: HTTPBodyDelivery = .accumulated
) -> ResponseFeed {
    var feed = ResponseFeed(parser: HTTPResponseParser(limits: limits, bodyDelivery: delivery))
    for _ in 0..<headRequests { feed.parser.expectResponse(to: "HEAD") }
    var accountedBytes = 0
    var isStopped = false
    func record(_ event: HTTPResponseParser.Event) {
        switch event {
        case .needMoreData: return
        case .body(let payload):
            if case .body(let previous) = feed.events.last {
                feed.events[feed.events.count - 1] = .body(previous + payload)
                return
            }
        case .interim(let head): accountedBytes += head.byteCount
        case .end(let end): accountedBytes += end.bytes.total
        case .error, .closed: isStopped = true
        case .head: break
        }
        feed.events.append(event)
    }
    pieces: for piece in pieces {
        var pending = piece[...]
        while !isStopped {
            let step = feed.parser.parse(pending)
            #expect(step.consumed >= 0 && step.consumed <= pending.count)
            feed.consumed += step.consumed
            pending = pending.dropFirst(step.consumed)
            record(step.event)
            if step.event == .needMoreData {
                #expect(pending.isEmpty, "needMoreData must consume every byte given")
                continue pieces
            }
        }
    }
    while peerCloses, !isStopped {
        let step = feed.parser.parseEndOfInput()
        #expect(step.consumed == 0)
        record(step.event)
    }
    #expect(feed.consumed == accountedBytes + feed.parser.messageBytes.total, "every consumed byte is accounted")
    return feed
}
