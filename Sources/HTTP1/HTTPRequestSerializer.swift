/// Writes client requests for the simulator: request line, `Host`, the caller's fields, the framing fields this
/// type owns, then the body.
///
/// A body is always sent with `Content-Length` (never chunked); `Connection: close` is written when the client
/// closes after the response. The caller's `Host`, `Content-Length`, `Transfer-Encoding` and `Connection` fields are
/// left out. To use `Expect: 100-continue`, put it in `headers`, send `makeRequestHead`, wait for the interim
/// response (`HTTPResponseParser` reports it as `.interim`), then send the body.
public enum HTTPRequestSerializer {
    /// A complete HTTP/1.1 request. `Content-Length` is written when there is a body, and for POST, PUT and PATCH
    /// even when it is empty (a server may otherwise answer 411).
    public static func makeRequest(
        method: String, target: String, host: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        isClosing: Bool = false
    ) -> [UInt8] {
        let needsLength = !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method)
        var buffer = makeRequestHead(
            method: method, target: target, host: host, headers: headers, contentLength: needsLength ? body.count : nil,
            isClosing: isClosing)
        buffer.append(contentsOf: body)
        return buffer
    }

    /// The head of an HTTP/1.1 request, through the blank line; `contentLength` nil writes no Content-Length.
    ///
    /// The method must be a token, the target visible ASCII and the host a valid `Host` value: anything else is a
    /// programming error and traps.
    public static func makeRequestHead(
        method: String, target: String, host: String, headers: HTTPHeaders = HTTPHeaders(), contentLength: Int?,
        isClosing: Bool = false
    ) -> [UInt8] {
        precondition(!method.isEmpty && method.utf8.allSatisfy(\.isTokenChar), "invalid method \(method)")
        precondition(!target.isEmpty && target.utf8.allSatisfy(\.isVisibleASCII), "invalid request target \(target)")
        precondition(host.utf8.allSatisfy { $0.isVisibleASCII && $0 != ASCII.slash }, "invalid host \(host)")
        var buffer: [UInt8] = []
        buffer.reserveCapacity(48 + method.utf8.count + target.utf8.count + headers.storage.count + 4 * headers.count)
        buffer.append(contentsOf: method.utf8)
        buffer.append(ASCII.space)
        buffer.append(contentsOf: target.utf8)
        buffer.append(contentsOf: " HTTP/1.1\r\n".utf8)
        buffer.appendHTTPField("Host", host)
        buffer.appendHTTPFields(headers, skipping: ["host", "content-length", "transfer-encoding", "connection"])
        if let contentLength {
            precondition(contentLength >= 0, "negative Content-Length")
            buffer.appendHTTPField("Content-Length", "\(contentLength)")
        }
        if isClosing { buffer.appendHTTPField("Connection", "close") }
        buffer.append(contentsOf: ASCII.crlf)
        return buffer
    }
}
