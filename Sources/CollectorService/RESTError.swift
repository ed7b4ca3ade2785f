import Telemetry

/// A refusal with everything the edge needs: HTTP status, a stable code, a message naming the problem, and extra
/// headers (`Allow`, `Retry-After`). Rendered in one place as `{"error": code, "message": message}`.
public struct RESTError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: Int
    /// A stable machine-readable code (`bad_request`, `not_found`, `unavailable` ...).
    public var code: String
    /// What was wrong and where, for a person.
    public var message: String
    /// Extra response headers (`Allow`, `Retry-After`, `WWW-Authenticate`).
    public var headers: [(name: String, value: String)]

    /// An error with the given status, code, message and headers.
    public init(_ status: Int, _ code: String, _ message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// `400 bad_request: <message>`, for logs.
    public var description: String { "\(status) \(code): \(message)" }

    /// The JSON error response.
    public var response: RESTResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.value(code)
        writer.key("message")
        writer.value(message)
        writer.endObject()
        var response = RESTResponse.json(status, writer.bytes)
        response.headers += headers
        return response
    }

    /// 400: the request is malformed; the message names the parameter or field.
    public static func badRequest(_ message: String) -> RESTError { RESTError(400, "bad_request", message) }
    /// 404: no such endpoint or device.
    public static func notFound(_ message: String) -> RESTError { RESTError(404, "not_found", message) }
    /// 405 with `Allow` listing the methods the path takes.
    public static func methodNotAllowed(_ method: String, allow: [String]) -> RESTError {
        RESTError(405, "method_not_allowed", "\(method) is not allowed here; allowed: \(allow.joined(separator: ", "))",
                  headers: [("allow", allow.joined(separator: ", "))])
    }
    /// 503 with `Retry-After`: overloaded or failing storage; retrying is safe.
    public static func unavailable(_ message: String, retryAfterSeconds: Int = 1) -> RESTError {
        RESTError(503, "unavailable", message, headers: [("retry-after", String(retryAfterSeconds))])
    }
}
