// Cross-origin calls from browsers (CORS, the Fetch standard). A page served by the collector itself (the dashboard)
// is same-origin and needs none of this. A page from another origin (an operator's own console calling Push or
// Watch over gRPC-Web, or the read API) may call only when `--cors-origin` names its origin (or is `*`):
//   * a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed origin is answered
//     204 with the origin, the methods the collector serves, the request headers the browser asked for (echoed:
//     gRPC-Web sends `x-grpc-web`, `device-id`, `grpc-timeout`, `authorization`) and a max age; from any other
//     origin it is refused 403, naming the origin and the flag that would allow it;
//   * an actual response to an allowed origin carries `Access-Control-Allow-Origin` and exposes `grpc-status` and
//     `grpc-message` (which a gRPC-Web client reads from Trailers-Only responses) and `retry-after`.
// Preflights carry no credentials, so they are answered before authentication. The default allows no other
// origin: a browser then refuses to hand a cross-origin page the answer, and the collector changes nothing else.

/// Which other origins' pages may call the collector from a browser, and the headers that say so (see the file
/// comment).
public struct CORSPolicy: Sendable, Equatable {
    /// Allowed origins (`https://console.example:8443`), or `*` for any.
    public var allowedOrigins: [String]

    /// The methods a preflight answer allows.
    public static let allowedMethods = "GET, HEAD, POST, OPTIONS"
    /// The response headers a cross-origin page may read.
    public static let exposedHeaders = "grpc-status, grpc-message, grpc-status-details-bin, retry-after"
    /// How long a browser may cache a preflight answer, in seconds.
    public static let maxAgeSeconds = 7200

    /// A policy allowing `allowedOrigins` (none: same origin only).
    public init(allowedOrigins: [String] = []) {
        self.allowedOrigins = allowedOrigins
    }

    /// The `--cors-origin` value: comma-separated origins (`scheme://host[:port]`, no path) or `*`; throws a message
    /// naming a malformed one.
    public init(flag: String) throws(CORSPolicyError) {
        var origins: [String] = []
        for item in flag.split(separator: ",") {
            let origin = String(item.trimmingSpaces)
            if origin.isEmpty { continue }
            guard origin == "*" || Self.isOrigin(origin) else {
                throw CORSPolicyError(
                    message: "--cors-origin: \"\(origin)\" is not an origin: write scheme://host[:port], "
                        + "no path, e.g. https://console.example:8443, or *")
            }
            origins.append(origin.lowercased())
        }
        self.init(allowedOrigins: origins)
    }

    /// True when a page from `origin` may read the collector's answers.
    public func allows(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin.lowercased())
    }

    /// True for a CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
    public static func isPreflight(method: String, origin: String?, requestMethod: String?) -> Bool {
        method == "OPTIONS" && origin != nil && requestMethod != nil
    }

    /// The answer to a preflight from `origin` asking for `requestHeaders` (`Access-Control-Request-Headers`).
    public func preflight(origin: String, requestHeaders: String?) -> RESTResponse {
        guard allows(origin) else {
            return RESTError(
                403, "cors_origin_refused",
                "pages from \(origin) may not call this collector; start it with --cors-origin \(origin) "
                    + "(or --cors-origin '*')"
            ).response
        }
        var headers: [(name: String, value: String)] = [
            ("access-control-allow-origin", origin), ("vary", "Origin"),
            ("access-control-allow-methods", Self.allowedMethods),
            ("access-control-max-age", String(Self.maxAgeSeconds)),
        ]
        if let requested = requestHeaders.map(Self.headerList), !requested.isEmpty {
            headers.append(("access-control-allow-headers", requested))
        }
        return RESTResponse(status: 204, headers: headers)
    }

    /// The headers an actual response to a request from `origin` carries (none without an allowed origin).
    public func responseHeaders(origin: String?) -> [(name: String, value: String)] {
        guard let origin, allows(origin) else { return [] }
        return [("access-control-allow-origin", origin), ("vary", "Origin"),
                ("access-control-expose-headers", Self.exposedHeaders)]
    }

    /// Adds `responseHeaders(origin:)` to `response` unless it has them already (a preflight answer).
    public func addResponseHeaders(to response: inout RESTResponse, origin: String?) {
        guard !response.headers.contains(where: { $0.name == "access-control-allow-origin" }) else { return }
        response.headers += responseHeaders(origin: origin)
    }

    /// `scheme://host[:port]` with an http(s) scheme and nothing after the authority.
    static func isOrigin(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard let schemeEnd = lower.range(of: "://") else { return false }
        let scheme = lower[..<schemeEnd.lowerBound]
        let authority = lower[schemeEnd.upperBound...]
        return (scheme == "http" || scheme == "https") && !authority.isEmpty
            && authority.allSatisfy { $0.isLetter || $0.isNumber || "-.:[]".contains($0) }
    }

    /// The requested header names, lower-cased, keeping only token characters (an echo never carries CR, LF or
    /// anything a header value may not hold).
    static func headerList(_ value: String) -> String {
        value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
            .filter { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } }
            .joined(separator: ", ")
    }
}

/// A malformed `--cors-origin` value.
public struct CORSPolicyError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the value.
    public var message: String
    public var description: String { message }
}
