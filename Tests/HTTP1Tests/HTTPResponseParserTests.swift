import HTTP1
import Testing

/// A valid response stream and what the parser must report for it.
struct ValidResponseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var peerCloses = false
    var headRequests = 0
    /// Per message (interim or final): status code, body, head bytes, body bytes.
    var expected: [ResponseSummary]
    var endsClosed = false
    var testDescription: String { name }
}

/// One interim or final response, as the tests describe it.
struct ResponseSummary: Equatable, Sendable {
    var isInterim = false
    var code: Int
    var framing: HTTPBodyFraming = .noBody
    var isKeepAlive = true
    var body: [UInt8] = []
    var trailers: [HTTPField] = []
    var bytes: HTTPMessageBytes
}

/// Summarizes interim heads and head/end pairs; nil when the event order is wrong.
func responses(in events: [HTTPResponseParser.Event]) -> [ResponseSummary]? {
    var result: [ResponseSummary] = []
    var current: ResponseSummary?
    for event in events {
        switch event {
        case .interim(let head):
            guard current == nil else { return nil }
            result.append(
                ResponseSummary(
                    isInterim: true, code: head.status.code, framing: head.framing, isKeepAlive: head.isKeepAlive,
                    bytes: HTTPMessageBytes(head: head.byteCount)))
        case .head(let head):
            guard current == nil else { return nil }
            current = ResponseSummary(
                code: head.status.code, framing: head.framing, isKeepAlive: head.isKeepAlive,
                bytes: HTTPMessageBytes(head: head.byteCount))
        case .body(let payload):
            guard current != nil else { return nil }
            current!.body += payload
        case .end(let end):
            guard var response = current, response.bytes.head == end.bytes.head else { return nil }
            response.body += end.body
            response.trailers = Array(end.trailers)
            response.bytes = end.bytes
            response.isKeepAlive = end.isKeepAlive
            result.append(response)
            current = nil
        case .needMoreData, .error, .closed:
            continue
        }
    }
    return current == nil ? result : nil
}

let validResponseCases: [ValidResponseCase] = [
    ValidResponseCase(
        name: "200 with Content-Length",
        // status line 15+2, Content-Length 17+2, blank 2 = 38; body 2
        input: wire("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
        expected: [
            ResponseSummary(code: 200, framing: .contentLength(2), body: wire("{}"), bytes: .init(head: 38, body: 2))
        ]),
    ValidResponseCase(
        name: "100 Continue, then 200",
        // interim: "HTTP/1.1 100 Continue\r\n\r\n" = 25
        input: wire("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
        expected: [
            ResponseSummary(isInterim: true, code: 100, bytes: .init(head: 25)),
            ResponseSummary(code: 202, framing: .contentLength(0), bytes: .init(head: 44)),
        ]),
    ValidResponseCase(
        name: "two interim responses with fields, then 200",
        input: wire("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
            + wire("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        expected: [
            ResponseSummary(isInterim: true, code: 100, bytes: .init(head: 25)),
            ResponseSummary(isInterim: true, code: 103, bytes: .init(head: 40)),
            ResponseSummary(code: 200, framing: .contentLength(1), body: wire("x"), bytes: .init(head: 38, body: 1)),
        ]),
    ValidResponseCase(
        name: "chunked with trailers",
        input: wire("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")  // 17 + 28 + 2 = 47
            + wire("3;x=y\r\nabc\r\n0\r\nGrpc-Status: 0\r\n\r\n"),  // 7 + 5 + 3 + 16 + 2 = 33, payload 3
        expected: [
            ResponseSummary(
                code: 200, framing: .chunked, body: wire("abc"), trailers: [HTTPField(name: "Grpc-Status", value: "0")],
                bytes: .init(head: 47, body: 33, chunkFraming: 30))
        ]),
    ValidResponseCase(
        name: "body until the connection closes",
        input: wire("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this"), peerCloses: true,
        expected: [
            ResponseSummary(
                code: 200, framing: .untilClose, isKeepAlive: false, body: wire("all of this"),
                bytes: .init(head: 45, body: 11))
        ],
        endsClosed: true),
    ValidResponseCase(
        name: "HTTP/1.0 response without keep-alive closes",
        input: wire("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"),
        expected: [
            ResponseSummary(
                code: 200, framing: .contentLength(1), isKeepAlive: false, body: wire("x"),
                bytes: .init(head: 38, body: 1))
        ],
        endsClosed: true),
    ValidResponseCase(
        name: "Connection: close",
        input: wire("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        expected: [ResponseSummary(code: 400, framing: .contentLength(0), isKeepAlive: false, bytes: .init(head: 66))],
        endsClosed: true),
    ValidResponseCase(
        name: "204 and 304 have no body whatever they declare",
        input: wire("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
        expected: [
            ResponseSummary(code: 204, bytes: .init(head: 27)), ResponseSummary(code: 304, bytes: .init(head: 49)),
        ]),
    ValidResponseCase(
        name: "the answer to HEAD has no body",
        input: wire("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx"),
        headRequests: 1,
        expected: [
            ResponseSummary(code: 200, bytes: .init(head: 39)),
            ResponseSummary(code: 200, framing: .contentLength(1), body: wire("x"), bytes: .init(head: 36, body: 1)),
        ]),
    ValidResponseCase(
        name: "101 Switching Protocols ends HTTP on the connection",
        input: wire("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
        expected: [ResponseSummary(code: 101, isKeepAlive: false, bytes: .init(head: 71))],
        endsClosed: true),
    ValidResponseCase(
        name: "peer closes between responses", input: wire("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        peerCloses: true, expected: [ResponseSummary(code: 200, framing: .contentLength(0), bytes: .init(head: 38))],
        endsClosed: true),
]

/// A response stream the parser must refuse.
struct RefusedResponseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var peerCloses = false
    var status: Int
    var message: String
    var limits = HTTPLimits.standard
    var testDescription: String { name }
}

let refusedResponseCases: [RefusedResponseCase] = [
    RefusedResponseCase(
        name: "Content-Length and Transfer-Encoding",
        input: wire("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), status: 400,
        message: "Content-Length and Transfer-Encoding together"),
    RefusedResponseCase(
        name: "invalid Content-Length", input: wire("HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\n"), status: 400,
        message: "invalid Content-Length"),
    RefusedResponseCase(
        name: "gzip transfer coding", input: wire("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        status: 501, message: "unsupported transfer coding"),
    RefusedResponseCase(
        name: "HTTP/2.0 status line", input: wire("HTTP/2.0 200 OK\r\n"), status: 505,
        message: "HTTP/2.0 not supported"),
    RefusedResponseCase(
        name: "two-digit status", input: wire("HTTP/1.1 20 OK\r\n"), status: 400, message: "malformed status line"),
    RefusedResponseCase(
        name: "status 600", input: wire("HTTP/1.1 600 Odd\r\n"), status: 400, message: "invalid status code"),
    RefusedResponseCase(
        name: "empty line before the status line", input: wire("\r\nHTTP/1.1 200 OK\r\n"), status: 400,
        message: "empty line where the status line should be"),
    RefusedResponseCase(
        name: "bare LF", input: wire("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), status: 400,
        message: "bare LF (line ending without CR)"),
    RefusedResponseCase(
        name: "header section over the limit",
        input: wire("HTTP/1.1 200 OK\r\nX: " + String(repeating: "v", count: 16380) + "\r\n\r\n"), status: 431,
        message: "header section larger than 16384 bytes"),
    RefusedResponseCase(
        name: "Content-Length over the body limit", input: wire("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"),
        status: 413, message: "Content-Length 11 larger than the 10-byte body limit",
        limits: HTTPLimits(maxBodyBytes: 10)),
    RefusedResponseCase(
        name: "body until close over the limit", input: wire("HTTP/1.1 200 OK\r\n\r\n0123456789X"), status: 413,
        message: "body larger than 10 bytes", limits: HTTPLimits(maxBodyBytes: 10)),
    RefusedResponseCase(
        name: "chunked body over the limit", input: wire("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nB\r\n"),
        status: 413, message: "chunked body larger than 10 bytes", limits: HTTPLimits(maxBodyBytes: 10)),
    RefusedResponseCase(
        name: "peer closes inside the body", input: wire("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"),
        peerCloses: true, status: 400, message: "connection closed before the body was complete"),
    RefusedResponseCase(
        name: "peer closes inside the head", input: wire("HTTP/1.1 200 OK\r\nContent-Len"), peerCloses: true,
        status: 400, message: "connection closed before the response was complete"),
    RefusedResponseCase(
        name: "peer closes after 100 Continue", input: wire("HTTP/1.1 100 Continue\r\n\r\n"), peerCloses: true,
        status: 400, message: "connection closed before the response was complete"),
]

@Suite struct HTTPResponseParserTests {
    @Test(arguments: validResponseCases)
    func parsesValidResponsesTheSameWayHoweverTheBytesArrive(_ testCase: ValidResponseCase) throws {
        let reference = feedResponses(
            [testCase.input], peerCloses: testCase.peerCloses, headRequests: testCase.headRequests)
        #expect(responses(in: reference.events) == testCase.expected)
        #expect(reference.consumed == testCase.input.count)
        #expect((reference.events.last == .closed) == testCase.endsClosed)
        for pieces in arrivalPatterns(of: testCase.input) {
            for delivery in [HTTPBodyDelivery.accumulated, .streamed] {
                let feed = feedResponses(
                    pieces, peerCloses: testCase.peerCloses, headRequests: testCase.headRequests, delivery: delivery)
                #expect(responses(in: feed.events) == testCase.expected, "\(delivery), split \(pieces.map(\.count))")
                if delivery == .accumulated { #expect(feed.events == reference.events) }
            }
        }
    }

    @Test(arguments: refusedResponseCases)
    func refusesMalformedResponsesHoweverTheBytesArrive(_ testCase: RefusedResponseCase) throws {
        let reference = feedResponses([testCase.input], peerCloses: testCase.peerCloses, limits: testCase.limits)
        guard case .error(let error) = reference.events.last else {
            Issue.record("expected an error, got \(reference.events)")
            return
        }
        #expect(error.status.code == testCase.status)
        #expect(error.message == testCase.message)
        for pieces in arrivalPatterns(of: testCase.input, maxSplitLength: 256) {
            let feed = feedResponses(pieces, peerCloses: testCase.peerCloses, limits: testCase.limits)
            #expect(feed.events == reference.events, "split into \(pieces.map(\.count))")
            #expect(feed.consumed == reference.consumed)
        }
    }

    @Test func parsesPipelinedResponsesWithExactByteCounts() throws {
        let first = wire("HTTP/1.1 100 Continue\r\n\r\n")
        let second = wire("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        let third = wire("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
        let fourth = wire("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nrest until close")
        let input = first + second + third + fourth
        for pieces in arrivalPatterns(of: input) {
            let feed = feedResponses(pieces, peerCloses: true)
            let parsed = try #require(responses(in: feed.events))
            #expect(parsed.map(\.code) == [100, 200, 404, 200])
            #expect(parsed.map(\.bytes.total) == [first.count, second.count, third.count, fourth.count])
            #expect(feed.consumed == input.count)
        }
    }
}
