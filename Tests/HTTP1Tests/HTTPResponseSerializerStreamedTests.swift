import Testing
@testable import HTTP1

/// Streamed responses (gRPC-Web's Watch): chunked to HTTP/1.1, until close to HTTP/1.0, and parsed back by our own
/// response parser.
struct HTTPResponseSerializerStreamedTests {
    @Test func anHTTP11StreamIsChunkedAndKeepsTheConnection() {
        let request = HTTPRequestHead(method: "POST", target: "/w")
        var headers = HTTPHeaders()
        headers.append(name: "content-type", value: "application/grpc-web+proto")
        headers.append(name: "Content-Length", value: "99")  // framing is the serializer's: left out
        let head = HTTPResponseSerializer.makeStreamedHead(to: request, status: .ok, headers: headers)
        #expect(String(decoding: head, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\ncontent-type: application/grpc-web+proto\r\nTransfer-Encoding: chunked\r\n\r\n")
        let framing = HTTPResponseSerializer.streamedChunkFraming(byteCount: 26, version: .http1_1)
        #expect(framing.prefix == Array("1a\r\n".utf8) && framing.suffix == Array("\r\n".utf8))
        #expect(HTTPResponseSerializer.streamedChunkFraming(byteCount: 0, version: .http1_1).prefix.isEmpty)
        #expect(HTTPResponseSerializer.streamedEnd(version: .http1_1) == Array("0\r\n\r\n".utf8))

        // Our parser reads it back as one body.
        let body = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        let bytes = head + framing.prefix + body + framing.suffix + HTTPResponseSerializer.streamedEnd(version: .http1_1)
        var parser = HTTPResponseParser()
        parser.expectResponse(to: "POST")
        var offset = 0
        var received: [UInt8]?
        while offset < bytes.count || received == nil {
            let step = parser.parse(bytes[offset...])
            offset += step.consumed
            if case .end(let end) = step.event { received = end.body; break }
            if case .needMoreData = step.event { break }
        }
        #expect(received == body)
    }

    @Test func anHTTP10StreamRunsUntilClose() {
        let request = HTTPRequestHead(method: "POST", target: "/w", version: .http1_0)
        let head = HTTPResponseSerializer.makeStreamedHead(to: request, status: .ok, headers: HTTPHeaders())
        #expect(String(decoding: head, as: UTF8.self) == "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n")
        #expect(HTTPResponseSerializer.streamedChunkFraming(byteCount: 5, version: .http1_0).prefix.isEmpty)
        #expect(HTTPResponseSerializer.streamedEnd(version: .http1_0).isEmpty)
    }
}
