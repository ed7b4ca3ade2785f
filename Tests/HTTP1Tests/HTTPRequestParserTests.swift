import HTTP1
import Testing

/// A valid input and the requests it must parse into.
struct ValidRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var expected: [ParsedRequest]
    /// Whether the last request closes the connection, so the parser ends `.closed`.
    var endsClosed = false
    var limits = HTTPLimits.standard
    var testDescription: String { name }
}

extension ParsedRequest: @unchecked Sendable {}

/// The valid requests every arrival pattern must parse identically.
let validRequestCases: [ValidRequestCase] = [
    ValidRequestCase(
        name: "GET without body",
        // request line 23+2, Host line 15+2, blank line 2 = 44
        input: wire("GET /v1/health HTTP/1.1\r\nHost: collector\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/v1/health", headers: [HTTPField(name: "Host", value: "collector")],
                bytes: HTTPMessageBytes(head: 44))
        ]),
    ValidRequestCase(
        name: "Content-Length with OWS around the value",
        // request line 37+2, Host 7+2, Content-Length 21+2, blank 2 = 73; body 5
        input: wire("POST /v1/devices/d1/readings HTTP/1.1\r\nHost: c\r\nContent-Length: \t 5 \t\r\n\r\nhello"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/v1/devices/d1/readings",
                headers: [HTTPField(name: "Host", value: "c"), HTTPField(name: "Content-Length", value: "5")],
                framing: .contentLength(5), body: wire("hello"), bytes: HTTPMessageBytes(head: 73, body: 5))
        ]),
    ValidRequestCase(
        name: "chunked with extensions and trailers",
        input: wire(
            "POST /v1/upload HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"  // head: 26 + 9 + 28 + 2 = 65
                + "5;name=value;q=\"a b\"\r\n"  // size line with a token and a quoted extension: 22
                + "hello\r\n"  // data + CRLF: 7 (payload 5)
                + "6 ;x\r\n"  // BWS before the extension: 6
                + " world\r\n"  // 8 (payload 6)
                + "0\r\n"  // last chunk: 3
                + "Checksum: abc\r\nX-Other: 1\r\n"  // trailer fields: 15 + 12
                + "\r\n"),  // end of trailers: 2 → body 75, payload 11, framing 64
        expected: [
            ParsedRequest(
                method: "POST", target: "/v1/upload",
                headers: [HTTPField(name: "Host", value: "c"), HTTPField(name: "Transfer-Encoding", value: "chunked")],
                framing: .chunked, body: wire("hello world"),
                trailers: [HTTPField(name: "Checksum", value: "abc"), HTTPField(name: "X-Other", value: "1")],
                bytes: HTTPMessageBytes(head: 65, body: 75, chunkFraming: 64))
        ]),
    ValidRequestCase(
        name: "chunked, list with an empty element and odd case",
        input: wire(
            "POST / HTTP/1.1\r\nhost: c\r\ntransfer-encoding: , Chunked\r\n\r\n" + "A\r\n0123456789\r\n0\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/",
                headers: [
                    HTTPField(name: "host", value: "c"), HTTPField(name: "transfer-encoding", value: ", Chunked"),
                ],
                framing: .chunked, body: wire("0123456789"),
                bytes: HTTPMessageBytes(head: 58, body: 20, chunkFraming: 10))
        ]),
    ValidRequestCase(
        name: "HTTP/1.0 with Connection: keep-alive stays open",
        // request line 15+2, Connection 22+2, blank 2 = 43; no Host needed in 1.0
        input: wire("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/a", version: .http1_0,
                headers: [HTTPField(name: "Connection", value: "keep-alive")], bytes: HTTPMessageBytes(head: 43))
        ]),
    ValidRequestCase(
        name: "HTTP/1.0 without keep-alive closes",
        input: wire("GET /a HTTP/1.0\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/a", version: .http1_0, isKeepAlive: false, bytes: HTTPMessageBytes(head: 19))
        ],
        endsClosed: true),
    ValidRequestCase(
        name: "leading empty lines belong to the request",
        // two CRLFs 4, request line 14+2, Host 7+2, blank 2 = 31
        input: wire("\r\n\r\nGET / HTTP/1.1\r\nHost: c\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/", headers: [HTTPField(name: "Host", value: "c")],
                bytes: HTTPMessageBytes(head: 31))
        ]),
    ValidRequestCase(
        name: "Connection: close in HTTP/1.1 wins over keep-alive",
        input: wire("GET / HTTP/1.1\r\nHost: c\r\nConnection: Keep-Alive, CLOSE\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/",
                headers: [
                    HTTPField(name: "Host", value: "c"), HTTPField(name: "Connection", value: "Keep-Alive, CLOSE"),
                ],
                isKeepAlive: false, bytes: HTTPMessageBytes(head: 58))
        ],
        endsClosed: true),
    ValidRequestCase(
        name: "Expect: 100-continue with a body",
        input: wire("PUT /x HTTP/1.1\r\nHost: c\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc"),
        expected: [
            ParsedRequest(
                method: "PUT", target: "/x",
                headers: [
                    HTTPField(name: "Host", value: "c"), HTTPField(name: "Expect", value: "100-Continue"),
                    HTTPField(name: "Content-Length", value: "3"),
                ],
                framing: .contentLength(3), expectsContinue: true, body: wire("abc"),
                bytes: HTTPMessageBytes(head: 69, body: 3))
        ]),
    ValidRequestCase(
        name: "Expect: 100-continue without a body expects nothing",
        input: wire("POST /x HTTP/1.1\r\nHost: c\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/x",
                headers: [
                    HTTPField(name: "Host", value: "c"), HTTPField(name: "Expect", value: "100-continue"),
                    HTTPField(name: "Content-Length", value: "0"),
                ],
                framing: .contentLength(0), bytes: HTTPMessageBytes(head: 70))
        ]),
    ValidRequestCase(
        name: "Expect is ignored in HTTP/1.0",
        input: wire("GET / HTTP/1.0\r\nExpect: teapot\r\nConnection: keep-alive\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "GET", target: "/", version: .http1_0,
                headers: [
                    HTTPField(name: "Expect", value: "teapot"), HTTPField(name: "Connection", value: "keep-alive"),
                ],
                bytes: HTTPMessageBytes(head: 58))
        ]),
    ValidRequestCase(
        name: "chunked HTTP/1.0 request is handled, then the connection closes",
        input: wire(
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n1\r\nx\r\n0\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/", version: .http1_0,
                headers: [
                    HTTPField(name: "Transfer-Encoding", value: "chunked"),
                    HTTPField(name: "Connection", value: "keep-alive"),
                ],
                framing: .chunked, isKeepAlive: false, body: wire("x"),
                bytes: HTTPMessageBytes(head: 71, body: 11, chunkFraming: 10))
        ],
        endsClosed: true),
    ValidRequestCase(
        name: "HTTP/1.2 is treated as 1.1, empty Host is allowed",
        input: wire("OPTIONS * HTTP/1.2\r\nHost:\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "OPTIONS", target: "*", version: HTTPVersion(major: 1, minor: 2),
                headers: [HTTPField(name: "Host", value: "")], bytes: HTTPMessageBytes(head: 29))
        ]),
    ValidRequestCase(
        name: "IP-literal Host and a Content-Length with leading zeros",
        input: wire("POST / HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 007\r\n\r\n1234567"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/",
                headers: [HTTPField(name: "Host", value: "[::1]:8080"), HTTPField(name: "Content-Length", value: "007")],
                framing: .contentLength(7), body: wire("1234567"), bytes: HTTPMessageBytes(head: 58, body: 7))
        ]),
    ValidRequestCase(
        name: "Content-Length at the body limit",
        input: wire("POST / HTTP/1.1\r\nHost: c\r\nContent-Length: 10\r\n\r\n0123456789"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/",
                headers: [HTTPField(name: "Host", value: "c"), HTTPField(name: "Content-Length", value: "10")],
                framing: .contentLength(10), body: wire("0123456789"), bytes: HTTPMessageBytes(head: 48, body: 10))
        ],
        limits: HTTPLimits(maxBodyBytes: 10)),
    ValidRequestCase(
        name: "chunked encoding exactly at the body limit",
        // encoding: "4\r\n" 3 + "abcd\r\n" 6 + "0\r\n\r\n" 5 = 14 bytes, payload 4
        input: wire("POST / HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"),
        expected: [
            ParsedRequest(
                method: "POST", target: "/",
                headers: [HTTPField(name: "Host", value: "c"), HTTPField(name: "Transfer-Encoding", value: "chunked")],
                framing: .chunked, body: wire("abcd"), bytes: HTTPMessageBytes(head: 56, body: 14, chunkFraming: 10))
        ],
        limits: HTTPLimits(maxBodyBytes: 14)),
]

@Suite struct HTTPRequestParserTests {
    @Test(arguments: validRequestCases)
    func parsesValidRequestsTheSameWayHoweverTheBytesArrive(_ testCase: ValidRequestCase) throws {
        let reference = feedRequests([testCase.input], limits: testCase.limits)
        #expect(requests(in: reference.events) == testCase.expected)
        #expect(reference.consumed == testCase.input.count)
        #expect(reference.parser.messageBytes == HTTPMessageBytes())
        #expect((reference.events.last == .closed) == testCase.endsClosed)
        for pieces in arrivalPatterns(of: testCase.input) {
            let feed = feedRequests(pieces, limits: testCase.limits)
            #expect(feed.events == reference.events, "split into \(pieces.map(\.count))")
            let streamed = feedRequests(pieces, limits: testCase.limits, delivery: .streamed)
            #expect(requests(in: streamed.events) == testCase.expected, "streamed, split into \(pieces.map(\.count))")
        }
    }

    @Test func parsesPipelinedRequestsInOrderWithExactByteCounts() throws {
        let first = wire("GET /v1/health HTTP/1.1\r\nHost: c\r\n\r\n")
        let second = wire("\r\nPOST /v1/readings HTTP/1.1\r\nHost: c\r\nContent-Length: 4\r\n\r\nabcd")
        let third = wire(
            "POST /v1/readings HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n")
        let fourth = wire("GET /bye HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n")
        let trailingJunk = wire("GET /never-parsed HTTP/1.1\r\n")
        let input = first + second + third + fourth + trailingJunk
        for pieces in arrivalPatterns(of: input) {
            let feed = feedRequests(pieces)
            let parsed = try #require(requests(in: feed.events))
            #expect(parsed.map(\.target) == ["/v1/health", "/v1/readings", "/v1/readings", "/bye"])
            #expect(parsed.map(\.bytes.total) == [first.count, second.count, third.count, fourth.count])
            #expect(parsed[1].bytes == HTTPMessageBytes(head: second.count - 4, body: 4))
            #expect(parsed[2].bytes.payload == 2)
            #expect(parsed.map(\.bytes.total).reduce(0, +) == input.count - trailingJunk.count)
            #expect(feed.events.last == .closed)
            #expect(feed.consumed == input.count - trailingJunk.count, "nothing after Connection: close is read")
        }
    }

    @Test func stopsAfterEachEventSoTheServerCanAnswerBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        let head = wire("POST /v1/readings HTTP/1.1\r\nHost: c\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        let input = head + wire("ok")
        let step = parser.parse(input)
        #expect(step.consumed == head.count, "the head step stops at the blank line")
        guard case .head(let parsed) = step.event else {
            Issue.record("expected a head, got \(step.event)")
            return
        }
        #expect(parsed.expectsContinue && parsed.contentLength == 2 && parsed.byteCount == head.count)
        #expect(!parser.isBetweenMessages)
        let end = parser.parse(input[step.consumed...])
        #expect(end.consumed == 2)
        #expect(
            end.event
                == .end(
                    HTTPMessageEnd(
                        body: wire("ok"), bytes: HTTPMessageBytes(head: head.count, body: 2), isKeepAlive: true)))
        #expect(parser.isBetweenMessages)
        #expect(parser.parse([UInt8]()) == HTTPRequestParser.Step(.needMoreData, consumed: 0))
    }

    @Test func emitsEndForABodilessRequestOnTheNextCallWithoutConsuming() {
        var parser = HTTPRequestParser()
        let input = wire("GET / HTTP/1.1\r\nHost: c\r\n\r\n")
        #expect(parser.parse(input).consumed == input.count)
        let end = parser.parse([UInt8]())
        #expect(
            end
                == .init(
                    .end(HTTPMessageEnd(bytes: HTTPMessageBytes(head: input.count), isKeepAlive: true)), consumed: 0))
    }

    @Test func keepsTheExactBytesOfFieldValues() throws {
        // obs-text: a Latin-1 é, not UTF-8
        let input = wire("GET / HTTP/1.1\r\nHost: c\r\nX-Name: caf") + [0xE9] + wire(" \r\n\r\n")
        let feed = feedRequests([input])
        guard case .head(let head) = feed.events.first else {
            Issue.record("no head")
            return
        }
        let position = try #require(head.headers.firstIndex(named: "x-name"))
        #expect(Array(head.headers.valueBytes(at: position)) == wire("caf") + [0xE9])
        #expect(head.headers["X-NAME"] == "caf\u{FFFD}")
    }

    @Test(arguments: [
        ("/v1/devices/d1/readings?from=1&to=2", "/v1/devices/d1/readings", "from=1&to=2" as String?),
        ("/plain", "/plain", nil),
        ("/empty-query?", "/empty-query", ""),
        ("http://collector:8080/v1/x?y=1", "/v1/x", "y=1"),
        ("http://collector:8080", "/", nil),
        ("collector:443", "collector:443", nil),
        ("*", "*", nil),
    ])
    func splitsTheTargetIntoPathAndQuery(target: String, path: String, query: String?) {
        let head = HTTPRequestHead(method: "GET", target: target)
        #expect(head.path == path)
        #expect(head.query.map(String.init) == query)
    }
}
