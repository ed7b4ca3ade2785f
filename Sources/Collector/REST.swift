// REST requests and responses independent of the transport that carried them: HTTP/1.1 connections and h2c
// streams both turn their requests into `RESTRequest` and send back a `RESTResponse`, so routing, validation and
// error rendering exist once.

import HTTP1
import Telemetry

/// A REST request, whichever transport carried it.
public struct RESTRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The path without the query, percent-decoding not yet applied.
    public var path: String
    /// Query parameters in order, percent-decoded.
    public var query: [(name: String, value: String)]
    /// Header fields with lower-case names.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// First value of a header (name in lower case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// First value of a query parameter.
    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Splits a request target into its path and its percent-decoded query parameters; nil when the query has a
    /// malformed escape.
    public static func split(target: String) -> (path: String, query: [(name: String, value: String)])? {
        guard let mark = target.firstIndex(of: "?") else { return (target, []) }
        guard let items = PercentDecoding.queryItems(target[target.index(after: mark)...]) else { return nil }
        return (String(target[..<mark]), items.map { ($0.name, $0.value) })
    }
}

/// A REST response, whichever transport carries it.
public struct RESTResponse: Sendable {
    /// HTTP status.
    public var status: Int
    /// Header fields (lower-case names; the transport adds framing headers such as Content-Length).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response.
    public static func json(_ status: Int = 200, _ body: [UInt8]) -> RESTResponse {
        RESTResponse(status: status, headers: [("content-type", "application/json")], body: body)
    }
}

/// A refusal with everything the edge needs: HTTP status, a stable code, a message naming the problem, and extra
/// headers (`Allow`, `Retry-After`). Rendered in one place as `{"error": code, "message": message}`.
public struct RESTError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    public var headers: [(name: String, value: String)]

    public init(_ status: Int, _ code: String, _ message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

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

    public static func badRequest(_ message: String) -> RESTError { RESTError(400, "bad_request", message) }
    public static func notFound(_ message: String) -> RESTError { RESTError(404, "not_found", message) }
    public static func methodNotAllowed(_ method: String, allow: [String]) -> RESTError {
        RESTError(405, "method_not_allowed", "\(method) is not allowed here; allowed: \(allow.joined(separator: ", "))",
                  headers: [("allow", allow.joined(separator: ", "))])
    }
    public static func unavailable(_ message: String, retryAfterSeconds: Int = 1) -> RESTError {
        RESTError(503, "unavailable", message, headers: [("retry-after", String(retryAfterSeconds))])
    }
}
