/// A request's head, delivered as soon as its blank line arrives and before any body byte, so a server can answer
/// `100 Continue` or refuse (404, 405, 411, 415…) without reading the body.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (`GET`, `POST`).
    public var method: String
    /// The request-target as sent: origin-form (`/v1/devices/d1/readings?x=1`), absolute-form, authority-form
    /// or `*`. Visible ASCII only; percent-escapes are not decoded (see `PercentDecoding`).
    public var target: String
    /// The request's HTTP version (major 1).
    public var version: HTTPVersion
    /// The header fields, in order.
    public var headers: HTTPHeaders
    /// How the body is delimited: `.noBody`, `.contentLength(n)` or `.chunked`.
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`; never after a chunked HTTP/1.0 request.
    public var isKeepAlive: Bool
    /// Whether the client waits for `100 Continue` before sending the body: HTTP/1.1, `Expect: 100-continue`,
    /// and a body to send. Send the interim response, or a final one (with `Connection: close`) instead.
    public var expectsContinue: Bool
    /// Bytes of the head on the wire, from its first byte (leading empty lines included) through the blank line.
    public var byteCount: Int

    /// A head from its parts.
    public init(
        method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
        framing: HTTPBodyFraming = .noBody, isKeepAlive: Bool = true, expectsContinue: Bool = false,
        byteCount: Int = 0
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.framing = framing
        self.isKeepAlive = isKeepAlive
        self.expectsContinue = expectsContinue
        self.byteCount = byteCount
    }

    /// The declared Content-Length, or nil when the request has none (a server may answer 411 to a POST).
    public var contentLength: Int? {
        if case .contentLength(let length) = framing { length } else { nil }
    }

    /// Whether the body is chunked.
    public var isChunked: Bool { framing == .chunked }

    /// The path part of the target, still percent-encoded: up to `?` for origin-form, the part after the
    /// authority for absolute-form (`/` when empty), the whole target for authority-form and `*`.
    public var path: Substring {
        let withoutQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard !withoutQuery.hasPrefix("/"), let scheme = withoutQuery.firstRange(of: "://") else {
            return withoutQuery
        }
        let afterAuthority = withoutQuery[scheme.upperBound...].drop(while: { $0 != "/" })
        return afterAuthority.isEmpty ? "/" : afterAuthority
    }

    /// The query part of the target (after the first `?`), still percent-encoded; nil when there is no `?`.
    public var query: Substring? {
        guard let mark = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: mark)...]
    }
}
