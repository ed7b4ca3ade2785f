/// What opens any gRPC request, whatever carries it: the HTTP method, scheme, path (`/package.Service/Method`) and
/// authority (HTTP/2 pseudo-headers, or an HTTP/1.1 request line and Host for gRPC-Web), then the metadata. The
/// router validates it; it exists so that nothing in the GRPC module depends on a transport's header type.
public struct GRPCRequestHead: Equatable, Sendable {
    /// The HTTP method (`POST` for every gRPC call); nil when the request named none.
    public var method: String?
    /// `http` or `https`.
    public var scheme: String?
    /// The method path, `/telemetry.v1.Telemetry/Upload`.
    public var path: String?
    /// The host (and port) the client addressed.
    public var authority: String?
    /// Every non-pseudo header, in order (`content-type`, `te`, `grpc-timeout`, custom metadata).
    public var metadata: GRPCMetadata

    /// A head; the defaults are what every gRPC client sends over plain-text HTTP/2.
    public init(
        method: String? = "POST", scheme: String? = "http", path: String?, authority: String?,
        metadata: GRPCMetadata = GRPCMetadata()
    ) {
        self.method = method
        self.scheme = scheme
        self.path = path
        self.authority = authority
        self.metadata = metadata
    }

    /// The `content-type` metadata.
    public var contentType: String? { metadata["content-type"] }

    /// The `grpc-accept-encoding` this implementation advertises: identity only (no compression library).
    public static let acceptedEncodings = "identity"

    /// `application/grpc`, optionally followed by `+format` or `;parameters`.
    public static func isGRPCContentType(_ value: String) -> Bool {
        let prefix = "application/grpc"
        guard value.hasPrefix(prefix) else { return false }
        let rest = value.dropFirst(prefix.count)
        return rest.isEmpty || rest.hasPrefix("+") || rest.hasPrefix(";")
    }
}
