// Which HTTP the browser-style devices (grpc-web, grpc-web-text, connect) speak (`--web-http`). A browser speaks
// HTTP/1.1 to a plaintext origin and HTTP/2 over TLS (ALPN h2); the bytes of the two differ mostly in the request
// and response heads (HTTP/1.1's are uncompressed text, HTTP/2's HPACK-compressed), so comparing gRPC-Web or Connect
// with gRPC (always HTTP/2) is fair only on the same HTTP.
//
// Rules: 1.1 (the default) is one request at a time on a keep-alive connection (ALPN `http/1.1` over TLS); 2 is the
// HTTP/2 client the gRPC devices use (h2c with prior knowledge in plaintext, ALPN `h2` over TLS), one stream per
// Push. REST devices speak HTTP/1.1 and gRPC devices HTTP/2 whatever this says.

/// The HTTP version of grpc-web, grpc-web-text and connect devices (`--web-http 1.1|2`).
public enum WebHTTPVersion: String, CaseIterable, Equatable, Sendable {
    /// HTTP/1.1 keep-alive (the default).
    case http1 = "1.1"
    /// HTTP/2, as the gRPC devices speak it.
    case http2 = "2"

    /// The version named `name` (`1.1`, `2`), or nil.
    public init?(name: String) { self.init(rawValue: name) }

    /// The flag's spelling.
    public var name: String { rawValue }

    /// `HTTP/1.1` or `HTTP/2`.
    public var description: String { "HTTP/\(rawValue)" }
}

extension DeviceProtocol {
    /// True for the protocols whose HTTP `--web-http` chooses: gRPC-Web (both encodings) and Connect.
    public var isWebPush: Bool {
        switch self {
        case .grpcWeb, .grpcWebText, .connect: true
        case .grpcStream, .grpcUnary, .grpcSync, .rest: false
        }
    }

    /// True when a device of this protocol speaks HTTP/2 in a run whose browser-style devices use `webHTTP`.
    public func usesHTTP2(webHTTP: WebHTTPVersion) -> Bool {
        usesHTTP2 || (isWebPush && webHTTP == .http2)
    }
}
