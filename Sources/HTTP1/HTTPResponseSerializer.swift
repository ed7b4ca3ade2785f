/// Writes server responses: status line with reason phrase, the caller's fields, then the framing fields this type
/// owns, then the body.
///
/// Framing rules: a response always carries `Content-Length` (never chunked, so HTTP/1.0 clients can read every
/// response), except 1xx, 204 and 304, which have no body and no Content-Length. `Connection: close` is written when
/// the connection closes after the response; `Connection: keep-alive` when an HTTP/1.0 connection stays open (1.0
/// clients assume close otherwise). The caller's `Content-Length`, `Transfer-Encoding` and `Connection` fields are
/// left out: framing is decided here, in one place. The bytes are returned (or appended) so the server can count
/// what it writes per request. A `Date` field, if wanted, is the caller's: this module has no clock.
public enum HTTPResponseSerializer {
    /// `HTTP/1.1 100 Continue` and the blank line (25 bytes): the interim answer to `Expect: 100-continue`, which
    /// is only honoured for HTTP/1.1 requests.
    public static func makeContinue() -> [UInt8] { Array("HTTP/1.1 100 Continue\r\n\r\n".utf8) }

    /// A complete response.
    ///
    /// - Parameters:
    ///   - version: the request's version: HTTP/1.0 requests get `HTTP/1.0` responses, all others `HTTP/1.1`.
    ///   - isClosing: whether the server closes the connection after this response (adds `Connection: close`).
    public static func makeResponse(
        status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        isClosing: Bool = false
    ) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 + headers.storage.count + 4 * headers.count + body.count)
        appendResponse(
            status: status, version: version, headers: headers, body: body, isClosing: isClosing, to: &buffer)
        return buffer
    }

    /// The response to a parsed request: its version and persistence decide the status line and `Connection`,
    /// and a HEAD request gets the body's Content-Length without the body.
    ///
    /// - Parameter isClosing: close even though the request was keep-alive (e.g. after refusing a body unread).
    public static func makeResponse(
        to request: HTTPRequestHead, status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        isClosing: Bool = false
    ) -> [UInt8] {
        var buffer: [UInt8] = []
        appendResponse(
            status: status, version: request.version, headers: headers, body: body,
            isClosing: isClosing || !request.isKeepAlive, isHeadRequest: request.method == "HEAD", to: &buffer)
        return buffer
    }

    /// Appends a complete response to `buffer` and returns how many bytes were appended.
    ///
    /// - Parameter isHeadRequest: write the Content-Length of `body` but not the body (the answer to HEAD).
    @discardableResult
    public static func appendResponse(
        status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        isClosing: Bool = false, isHeadRequest: Bool = false, to buffer: inout [UInt8]
    ) -> Int {
        precondition((100...999).contains(status.code), "status code must have three digits")
        precondition(!status.forbidsBody || body.isEmpty, "a \(status.code) response has no body")
        precondition(status.reasonPhrase.utf8.allSatisfy(\.isFieldValueChar), "invalid reason phrase")
        let start = buffer.count
        buffer.append(contentsOf: (version.isAtLeastHTTP1_1 ? "HTTP/1.1 " : "HTTP/1.0 ").utf8)
        buffer.append(contentsOf: "\(status.code) \(status.reasonPhrase)\r\n".utf8)
        buffer.appendHTTPFields(headers, skipping: ["content-length", "transfer-encoding", "connection"])
        if !status.forbidsBody { buffer.appendHTTPField("Content-Length", "\(body.count)") }
        if isClosing {
            buffer.appendHTTPField("Connection", "close")
        } else if !version.isAtLeastHTTP1_1 {
            buffer.appendHTTPField("Connection", "keep-alive")
        }
        buffer.append(contentsOf: ASCII.crlf)
        if !isHeadRequest { buffer.append(contentsOf: body) }
        return buffer.count - start
    }
}
