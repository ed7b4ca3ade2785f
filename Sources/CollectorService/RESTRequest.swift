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

    /// A request with a decoded path and query, lower-cased header names and the whole body.
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
