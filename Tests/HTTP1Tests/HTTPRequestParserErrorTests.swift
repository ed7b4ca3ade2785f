import HTTP1
import Testing

/// A request the parser must refuse, with the status and message it must refuse it with.
struct RefusedRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [UInt8]
    var status: Int
    var message: String
    var limits = HTTPLimits.standard
    var testDescription: String { name }
}

/// `GET / HTTP/1.1`, `Host: c` and the given field lines, then the blank line.
func head(_ fields: String..., version: String = "HTTP/1.1", method: String = "POST") -> String {
    "\(method) / \(version)\r\nHost: c\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"
}

/// A chunked POST head followed by the given body bytes.
func chunked(_ body: String) -> [UInt8] { wire(head("Transfer-Encoding: chunked") + body) }

let refusedRequestCases: [RefusedRequestCase] = [
    // Limits.
    RefusedRequestCase(
        name: "request line of 8193 bytes",
        input: wire("GET /" + String(repeating: "a", count: 8179) + " HTTP/1.1\r\n"),
        status: 414, message: "request line longer than 8192 bytes"),
    RefusedRequestCase(
        name: "header section of 16385 bytes",
        // Host line 7+2, then a field of 16374+2: 16385 bytes of field lines
        input: wire("GET / HTTP/1.1\r\nHost: c\r\nX: " + String(repeating: "v", count: 16371) + "\r\n\r\n"),
        status: 431, message: "header section larger than 16384 bytes"),
    RefusedRequestCase(
        name: "101 header fields", input: wire(head(Array(repeating: "X-A: 1", count: 100).joined(separator: "\r\n"))),
        status: 431, message: "more than 100 header fields"),
    RefusedRequestCase(
        name: "Content-Length over the default 1 MiB", input: wire(head("Content-Length: 1048577")),
        status: 413, message: "Content-Length 1048577 larger than the 1048576-byte body limit"),
    RefusedRequestCase(
        name: "Content-Length over a configured limit", input: wire(head("Content-Length: 11") + "0123456789x"),
        status: 413, message: "Content-Length 11 larger than the 10-byte body limit",
        limits: HTTPLimits(maxBodyBytes: 10)),
    RefusedRequestCase(
        name: "chunk size alone over the default 1 MiB", input: chunked("100001\r\n"),
        status: 413, message: "chunked body larger than 1048576 bytes"),
    RefusedRequestCase(
        // "4\r\n" 3 + "abcd\r\n" 6 + "00\r\n" 4 + "\r\n" 2 = 15 bytes of encoding, payload 4
        name: "chunked encoding one byte over the limit (framing counts)", input: chunked("4\r\nabcd\r\n00\r\n\r\n"),
        status: 413, message: "chunked body larger than 14 bytes", limits: HTTPLimits(maxBodyBytes: 14)),
    RefusedRequestCase(
        name: "chunked trailers over the limit", input: chunked("4\r\nabcd\r\n0\r\nX: y\r\n\r\n"),
        status: 413, message: "chunked body larger than 18 bytes", limits: HTTPLimits(maxBodyBytes: 18)),
    RefusedRequestCase(
        name: "too many empty lines", input: wire(String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\n"),
        status: 400, message: "too many empty lines before the request line"),
    // Framing.
    RefusedRequestCase(
        name: "Content-Length and Transfer-Encoding",
        input: wire(head("Content-Length: 5", "Transfer-Encoding: chunked")),
        status: 400, message: "Content-Length and Transfer-Encoding together"),
    RefusedRequestCase(
        name: "Transfer-Encoding and Content-Length",
        input: wire(head("Transfer-Encoding: chunked", "Content-Length: 5")),
        status: 400, message: "Content-Length and Transfer-Encoding together"),
    RefusedRequestCase(
        name: "Content-Length +5", input: wire(head("Content-Length: +5")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length -1", input: wire(head("Content-Length: -1")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length 0x10", input: wire(head("Content-Length: 0x10")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length 5,6", input: wire(head("Content-Length: 5,6")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length 5, 5", input: wire(head("Content-Length: 5, 5")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length 5 5", input: wire(head("Content-Length: 5 5")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "empty Content-Length", input: wire(head("Content-Length: ")), status: 400,
        message: "invalid Content-Length"),
    RefusedRequestCase(
        name: "Content-Length twice, same value", input: wire(head("Content-Length: 5", "content-length: 5")),
        status: 400, message: "more than one Content-Length"),
    RefusedRequestCase(
        name: "transfer coding gzip", input: wire(head("Transfer-Encoding: gzip")), status: 501,
        message: "unsupported transfer coding"),
    RefusedRequestCase(
        name: "transfer codings gzip, chunked", input: wire(head("Transfer-Encoding: gzip, chunked")), status: 501,
        message: "unsupported transfer coding"),
    RefusedRequestCase(
        name: "chunked then gzip on a second line",
        input: wire(head("Transfer-Encoding: chunked", "Transfer-Encoding: gzip")),
        status: 501, message: "unsupported transfer coding"),
    RefusedRequestCase(
        name: "transfer coding identity", input: wire(head("Transfer-Encoding: identity")), status: 501,
        message: "unsupported transfer coding"),
    RefusedRequestCase(
        name: "chunked twice", input: wire(head("Transfer-Encoding: chunked, chunked")), status: 400,
        message: "chunked transfer coding applied more than once"),
    RefusedRequestCase(
        name: "empty Transfer-Encoding", input: wire(head("Transfer-Encoding: ,")), status: 400,
        message: "empty Transfer-Encoding"),
    // Request line and version.
    RefusedRequestCase(
        name: "HTTP/2.0", input: wire("GET / HTTP/2.0\r\n"), status: 505, message: "HTTP/2.0 not supported"),
    RefusedRequestCase(
        name: "HTTP/0.9 spelled out", input: wire("GET / HTTP/0.9\r\n"), status: 505,
        message: "HTTP/0.9 not supported"),
    RefusedRequestCase(
        name: "HTTP/1.10", input: wire("GET / HTTP/1.10\r\n"), status: 400, message: "malformed HTTP version"),
    RefusedRequestCase(
        name: "lower-case http/1.1", input: wire("GET / http/1.1\r\n"), status: 400, message: "malformed HTTP version"),
    RefusedRequestCase(
        name: "space after the version", input: wire("GET / HTTP/1.1 \r\n"), status: 400,
        message: "malformed HTTP version"),
    RefusedRequestCase(
        name: "two spaces before the target", input: wire("GET  / HTTP/1.1\r\n"), status: 400,
        message: "malformed request line"),
    RefusedRequestCase(
        name: "no version (HTTP/0.9 form)", input: wire("GET /\r\n"), status: 400, message: "malformed request line"),
    RefusedRequestCase(
        name: "space before the method", input: wire(" GET / HTTP/1.1\r\n"), status: 400,
        message: "malformed request line"),
    RefusedRequestCase(
        name: "method with a non-token character", input: wire("G@T / HTTP/1.1\r\n"), status: 400,
        message: "invalid method"),
    RefusedRequestCase(
        name: "control character in the target", input: wire("GET /a\u{7F}b HTTP/1.1\r\n"), status: 400,
        message: "invalid character in request target"),
    RefusedRequestCase(
        name: "non-ASCII byte in the target", input: wire("GET /caf") + [0xC3, 0xA9] + wire(" HTTP/1.1\r\n"),
        status: 400, message: "invalid character in request target"),
    // Field lines and line endings.
    RefusedRequestCase(
        name: "space before the colon", input: wire("GET / HTTP/1.1\r\nHost : c\r\n\r\n"), status: 400,
        message: "whitespace between field name and colon"),
    RefusedRequestCase(
        name: "tab before the colon", input: wire(head("Content-Length\t: 5")), status: 400,
        message: "whitespace between field name and colon"),
    RefusedRequestCase(
        name: "obs-fold", input: wire(head("X-A: 1", "  continued")), status: 400,
        message: "obs-fold (field line starting with whitespace)"),
    RefusedRequestCase(
        name: "whitespace before the first field", input: wire("GET / HTTP/1.1\r\n Host: c\r\n\r\n"), status: 400,
        message: "obs-fold (field line starting with whitespace)"),
    RefusedRequestCase(
        name: "bare LF ending the request line", input: wire("GET / HTTP/1.1\nHost: c\r\n\r\n"), status: 400,
        message: "bare LF (line ending without CR)"),
    RefusedRequestCase(
        name: "bare LF ending a field line", input: wire("GET / HTTP/1.1\r\nHost: c\n\r\n"), status: 400,
        message: "bare LF (line ending without CR)"),
    RefusedRequestCase(
        name: "bare LF as a leading empty line", input: wire("\nGET / HTTP/1.1\r\n"), status: 400,
        message: "bare LF (line ending without CR)"),
    RefusedRequestCase(
        name: "bare CR inside a field line", input: wire("GET / HTTP/1.1\r\nHost: c\rX: y\r\n\r\n"), status: 400,
        message: "bare CR (CR not followed by LF)"),
    RefusedRequestCase(
        name: "bare CR ending the head", input: wire("GET / HTTP/1.1\r\nHost: c\r\n\r\r\n"), status: 400,
        message: "bare CR (CR not followed by LF)"),
    RefusedRequestCase(
        name: "field line without a colon", input: wire(head("NoColon")), status: 400,
        message: "field line without a colon"),
    RefusedRequestCase(
        name: "empty field name", input: wire(head(": value")), status: 400, message: "empty field name"),
    RefusedRequestCase(
        name: "non-token field name", input: wire(head("X(y): z")), status: 400,
        message: "invalid character in field name"),
    RefusedRequestCase(
        name: "NUL in a field value", input: wire(head("X-A: a\u{0}b")), status: 400,
        message: "invalid character in field value"),
    RefusedRequestCase(
        name: "missing Host in HTTP/1.1", input: wire("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), status: 400,
        message: "missing Host"),
    RefusedRequestCase(
        name: "two Hosts", input: wire(head("Host: d")), status: 400, message: "more than one Host"),
    RefusedRequestCase(
        name: "two Hosts in HTTP/1.0", input: wire("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), status: 400,
        message: "more than one Host"),
    RefusedRequestCase(
        name: "Host with a space", input: wire("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), status: 400,
        message: "invalid Host"),
    RefusedRequestCase(
        name: "Expect other than 100-continue", input: wire(head("Expect: 100-continue, teapot", "Content-Length: 1")),
        status: 417, message: "unsupported Expect value"),
    RefusedRequestCase(
        name: "empty Expect", input: wire(head("Expect:")), status: 417, message: "unsupported Expect value"),
    // Chunked syntax.
    RefusedRequestCase(
        name: "non-hex chunk size", input: chunked("zz\r\n"), status: 400, message: "invalid chunk size"),
    RefusedRequestCase(
        name: "chunk size with 0x", input: chunked("0x5\r\n"), status: 400, message: "invalid chunk size"),
    RefusedRequestCase(
        name: "negative chunk size", input: chunked("-5\r\n"), status: 400, message: "invalid chunk size"),
    RefusedRequestCase(
        name: "empty chunk-size line", input: chunked("\r\n"), status: 400, message: "invalid chunk size"),
    RefusedRequestCase(
        name: "whitespace after the chunk size", input: chunked("5 \r\n"), status: 400,
        message: "invalid chunk extension"),
    RefusedRequestCase(
        name: "extension without a name", input: chunked("5;\r\n"), status: 400, message: "invalid chunk extension"),
    RefusedRequestCase(
        name: "extension with an empty value", input: chunked("5;a=\r\n"), status: 400,
        message: "invalid chunk extension"),
    RefusedRequestCase(
        name: "unterminated quoted extension value", input: chunked("5;a=\"b\r\n"), status: 400,
        message: "invalid chunk extension"),
    RefusedRequestCase(
        name: "chunk data longer than its size", input: chunked("5\r\nhelloX\r\n"), status: 400,
        message: "chunk data not followed by CRLF"),
    RefusedRequestCase(
        name: "chunk data followed by bare LF", input: chunked("5\r\nhello\n"), status: 400,
        message: "chunk data not followed by CRLF"),
    RefusedRequestCase(
        name: "bare LF after the chunk size", input: chunked("5\nhello\r\n"), status: 400,
        message: "bare LF (line ending without CR)"),
    RefusedRequestCase(
        name: "over-long chunk extensions", input: chunked("5;a=" + String(repeating: "b", count: 1021) + "\r\n"),
        status: 400, message: "chunk-size line longer than 1024 bytes"),
    RefusedRequestCase(
        name: "malformed trailer", input: chunked("0\r\nBad Trailer\r\n\r\n"), status: 400,
        message: "invalid character in field name"),
    RefusedRequestCase(
        // the head's field lines take 37 bytes; the trailer line takes 41 + 2
        name: "trailer section over the limit",
        input: chunked("0\r\nX: " + String(repeating: "y", count: 38) + "\r\n\r\n"),
        status: 431, message: "trailer section larger than 40 bytes", limits: HTTPLimits(maxHeaderSectionBytes: 40)),
]

@Suite struct HTTPRequestParserErrorTests {
    @Test(arguments: refusedRequestCases)
    func refusesWithTheExactStatusAndMessageHoweverTheBytesArrive(_ testCase: RefusedRequestCase) throws {
        let reference = feedRequests([testCase.input], limits: testCase.limits)
        let error = try #require(parseError(in: reference.events), "events: \(reference.events)")
        #expect(error.status.code == testCase.status)
        #expect(error.status == HTTPStatus(code: testCase.status))
        #expect(error.message == testCase.message)
        for pieces in arrivalPatterns(of: testCase.input, maxSplitLength: 256) {
            let feed = feedRequests(pieces, limits: testCase.limits)
            #expect(feed.events == reference.events, "split into \(pieces.map(\.count))")
            #expect(feed.consumed == reference.consumed, "split into \(pieces.map(\.count))")
        }
    }

    @Test func theErrorStateIsTerminal() {
        var parser = HTTPRequestParser()
        let step = parser.parse(wire("GET / HTTP/1.1\nHost: c\r\n\r\n"))
        #expect(step.consumed == 15, "consumed through the offending LF")
        let error = HTTPParseError(.badRequest, "bare LF (line ending without CR)")
        #expect(step.event == .error(error))
        #expect(parser.parse(wire("GET / HTTP/1.1\r\n")) == HTTPRequestParser.Step(.error(error), consumed: 0))
    }

    @Test func refusesAnOverLongRequestLineAtTheFirstByteOverTheLimit() {
        var parser = HTTPRequestParser()
        let line = wire("GET /" + String(repeating: "a", count: 10_000))
        let step = parser.parse(line)
        #expect(step.consumed == 8193)
        #expect(parser.messageBytes.head == 8193)
    }

    @Test func refusesAnOversizedChunkBeforeItsDataArrives() {
        var parser = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 100))
        let input = chunked("65\r\n")  // 0x65 = 101 bytes announced
        var events: [HTTPRequestParser.Event] = []
        var rest = input[...]
        while true {
            let step = parser.parse(rest)
            rest = rest.dropFirst(step.consumed)
            events.append(step.event)
            if case .error = step.event { break }
            if step.event == .needMoreData { break }
        }
        #expect(events.last == .error(HTTPParseError(.contentTooLarge, "chunked body larger than 100 bytes")))
        #expect(parser.messageBytes.body == 4)
    }
}

/// The valid boundary cases next to the limits above: exactly at each limit is accepted.
@Suite struct HTTPRequestParserLimitTests {
    @Test func acceptsARequestLineOfExactly8192Bytes() throws {
        let input = wire("GET /" + String(repeating: "a", count: 8178) + " HTTP/1.1\r\nHost: c\r\n\r\n")
        for pieces in arrivalPatterns(of: input, maxSplitLength: 0) {
            let parsed = try #require(requests(in: feedRequests(pieces).events))
            #expect(parsed.first?.target.utf8.count == 8179)
        }
    }

    @Test func acceptsAHeaderSectionOfExactly16384BytesAnd100Fields() throws {
        let big = wire("GET / HTTP/1.1\r\nHost: c\r\nX: " + String(repeating: "v", count: 16370) + "\r\n\r\n")
        let many = wire(head(Array(repeating: "X-A: 1", count: 99).joined(separator: "\r\n")))
        for input in [big, many] {
            for pieces in arrivalPatterns(of: input, maxSplitLength: 0) {
                let parsed = try #require(requests(in: feedRequests(pieces).events))
                #expect(parsed.count == 1)
            }
        }
    }

    @Test func acceptsABodyOfExactly1MiB() throws {
        let body = [UInt8](repeating: 0x61, count: 1 << 20)
        let input = wire(head("Content-Length: 1048576")) + body
        let parsed = try #require(requests(in: feedRequests([input]).events))
        #expect(parsed.first?.body == body)
    }
}
