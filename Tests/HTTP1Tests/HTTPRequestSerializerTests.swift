import HTTP1
import Testing

@Suite struct HTTPRequestSerializerTests {
    @Test func writesRequestLineHostFieldsContentLengthAndBody() {
        let bytes = HTTPRequestSerializer.makeRequest(
            method: "POST", target: "/v1/devices/d1/readings", host: "collector:8080",
            headers: ["Content-Type": "application/json", "Host": "ignored"], body: wire("{}"))
        #expect(
            bytes
                == wire(
                    "POST /v1/devices/d1/readings HTTP/1.1\r\n"  // request line
                        + "Host: collector:8080\r\n"  // Host first; the caller's Host is left out
                        + "Content-Type: application/json\r\n"
                        + "Content-Length: 2\r\n"
                        + "\r\n{}"))
    }

    @Test(arguments: [
        ("GET", false, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"),
        ("GET", true, "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
        ("POST", false, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
    ])
    func writesContentLengthWhereAServerExpectsOne(method: String, isClosing: Bool, expected: String) {
        let bytes = HTTPRequestSerializer.makeRequest(method: method, target: "/x", host: "h", isClosing: isClosing)
        #expect(bytes == wire(expected))
    }

    @Test func writesAHeadForExpectContinue() {
        let head = HTTPRequestSerializer.makeRequestHead(
            method: "PUT", target: "/x", host: "h", headers: ["Expect": "100-continue"], contentLength: 5)
        #expect(head == wire("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"))
        let feed = feedRequests([head + wire("hello")])
        guard case .head(let parsed) = feed.events.first else {
            Issue.record("no head")
            return
        }
        #expect(parsed.expectsContinue)
    }

    @Test func roundTripsThroughTheRequestParser() throws {
        let body = wire(String(repeating: "0123456789", count: 205))
        let bytes = HTTPRequestSerializer.makeRequest(
            method: "POST", target: "/v1/devices/d-7/readings?source=sim", host: "127.0.0.1:8080",
            headers: ["Content-Type": "application/json", "User-Agent": "device-sim"], body: body)
        let parsed = try #require(requests(in: feedRequests([bytes]).events))
        #expect(parsed.count == 1)
        #expect(parsed.first?.method == "POST")
        #expect(parsed.first?.target == "/v1/devices/d-7/readings?source=sim")
        #expect(parsed.first?.body == body)
        #expect(parsed.first?.bytes.total == bytes.count)
    }
}
