import HTTP1
import Testing

@Suite struct HTTPResponseSerializerTests {
    @Test func writesStatusLineFieldsContentLengthAndBody() {
        let bytes = HTTPResponseSerializer.makeResponse(
            status: .accepted, headers: ["Content-Type": "application/json"], body: wire("{}"))
        #expect(
            bytes
                == wire(
                    "HTTP/1.1 202 Accepted\r\n"  // status line with reason phrase
                        + "Content-Type: application/json\r\n"  // caller's field
                        + "Content-Length: 2\r\n"  // always, never chunked
                        + "\r\n{}"))
    }

    @Test(arguments: [
        (HTTPVersion.http1_1, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        (HTTPVersion.http1_1, true, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        (HTTPVersion.http1_0, false, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"),
        (HTTPVersion.http1_0, true, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        (HTTPVersion(major: 1, minor: 2), false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ])
    func answersInTheRequestsVersionAndSaysWhenItCloses(version: HTTPVersion, isClosing: Bool, expected: String) {
        #expect(
            HTTPResponseSerializer.makeResponse(status: .ok, version: version, isClosing: isClosing) == wire(expected))
    }

    @Test func leavesOutTheCallersFramingFields() {
        let headers: HTTPHeaders = [
            "Content-Length": "99", "transfer-encoding": "chunked", "Connection": "keep-alive", "X-Kept": "1",
        ]
        let bytes = HTTPResponseSerializer.makeResponse(status: .ok, headers: headers, body: wire("abc"))
        #expect(bytes == wire("HTTP/1.1 200 OK\r\nX-Kept: 1\r\nContent-Length: 3\r\n\r\nabc"))
    }

    @Test(arguments: [
        (HTTPStatus.noContent, "HTTP/1.1 204 No Content\r\n\r\n"),
        (HTTPStatus(code: 304), "HTTP/1.1 304 Not Modified\r\n\r\n"),
    ])
    func writesNoContentLengthWhereNoBodyIsAllowed(status: HTTPStatus, expected: String) {
        #expect(HTTPResponseSerializer.makeResponse(status: status) == wire(expected))
    }

    @Test func writesTheInterimContinueLine() {
        #expect(HTTPResponseSerializer.makeContinue() == wire("HTTP/1.1 100 Continue\r\n\r\n"))
    }

    @Test func answersAParsedRequest() {
        let http10 = HTTPRequestHead(method: "GET", target: "/", version: .http1_0, isKeepAlive: false)
        #expect(
            HTTPResponseSerializer.makeResponse(to: http10, status: .notFound, body: wire("no"))
                == wire("HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"))
        let head = HTTPRequestHead(method: "HEAD", target: "/")
        #expect(
            HTTPResponseSerializer.makeResponse(to: head, status: .ok, body: wire("hidden"))
                == wire("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"))
        let keepAlive = HTTPRequestHead(method: "POST", target: "/", expectsContinue: true)
        #expect(
            HTTPResponseSerializer.makeResponse(to: keepAlive, status: .contentTooLarge, isClosing: true)
                == wire("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
    }

    @Test func appendsAndCountsWhatItAppended() {
        var buffer = wire("previous")
        let count = HTTPResponseSerializer.appendResponse(status: .ok, body: wire("x"), to: &buffer)
        #expect(count == 39)
        #expect(buffer.count == 8 + 39)
    }

    @Test(arguments: [0, 1, 2])
    func roundTripsThroughTheResponseParser(variant: Int) throws {
        let headers: HTTPHeaders = ["Content-Type": "application/json", "X-Request-Id": "r-1"]
        let body = variant == 0 ? [] : wire(String(repeating: "{\"v\":1}", count: variant * 100))
        let bytes = HTTPResponseSerializer.makeResponse(
            status: .created, version: variant == 2 ? .http1_0 : .http1_1, headers: headers, body: body,
            isClosing: variant == 1)
        let feed = feedResponses([bytes])
        guard case .head(let head) = feed.events.first, case .end(let end) = feed.events.dropFirst().first else {
            Issue.record("unexpected events \(feed.events)")
            return
        }
        #expect(head.status == .created)
        #expect(head.headers["x-request-id"] == "r-1")
        #expect(head.contentLength == body.count)
        #expect(head.isKeepAlive == (variant != 1))
        #expect(end.body == body)
        #expect(end.bytes.total == bytes.count)
    }
}
