// A streamed response (gRPC-Web server streaming: a Watch sends messages as batches commit, for as long as the call
// lasts) is the one exception to "always Content-Length": its length is not known when its head goes out. To an
// HTTP/1.1 request it is chunked: the head says `Transfer-Encoding: chunked`, each write is one chunk, and the last
// chunk ends it, keeping the connection. To an HTTP/1.0 request, which cannot read chunks, the body runs until the
// server closes: the head says `Connection: close` and the writes are the body's bytes as they are.

extension HTTPResponseSerializer {
    /// The head of a streamed response to `request` (see the file comment).
    public static func makeStreamedHead(to request: HTTPRequestHead, status: HTTPStatus, headers: HTTPHeaders)
        -> [UInt8]
    {
        precondition(!status.forbidsBody, "a \(status.code) response has no body to stream")
        var buffer: [UInt8] = []
        let isChunked = request.version.isAtLeastHTTP1_1
        buffer.append(contentsOf: (isChunked ? "HTTP/1.1 " : "HTTP/1.0 ").utf8)
        buffer.append(contentsOf: "\(status.code) \(status.reasonPhrase)\r\n".utf8)
        buffer.appendHTTPFields(headers, skipping: ["content-length", "transfer-encoding", "connection"])
        if isChunked {
            buffer.appendHTTPField("Transfer-Encoding", "chunked")
            if !request.isKeepAlive { buffer.appendHTTPField("Connection", "close") }
        } else {
            buffer.appendHTTPField("Connection", "close")
        }
        buffer.append(contentsOf: ASCII.crlf)
        return buffer
    }

    /// The framing of one write of a streamed response in `version`: what goes before and after the bytes (a chunk's
    /// size line and CRLF for HTTP/1.1; nothing for HTTP/1.0). An empty write has no chunk (it would end the body).
    public static func streamedChunkFraming(byteCount: Int, version: HTTPVersion) -> (prefix: [UInt8], suffix: [UInt8]) {
        guard version.isAtLeastHTTP1_1, byteCount > 0 else { return ([], []) }
        return (Array("\(String(byteCount, radix: 16))\r\n".utf8), ASCII.crlf)
    }

    /// What ends a streamed response in `version`: the last chunk (HTTP/1.1) or nothing (HTTP/1.0: the close).
    public static func streamedEnd(version: HTTPVersion) -> [UInt8] {
        version.isAtLeastHTTP1_1 ? Array("0\r\n\r\n".utf8) : []
    }
}
