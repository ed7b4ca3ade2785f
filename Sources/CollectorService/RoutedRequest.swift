// Routing happens as soon as a request head is known, for HTTP/1.1 and h2c alike, so the transport can refuse early
// and knows which bandwidth row the request's bytes belong to.

import Accounting

/// How a REST request was routed: its endpoint (or the refusal) and the bandwidth row its bytes go to.
package struct RoutedRequest {
    /// The endpoint, or the refusal (404, 405, a malformed query, an access refusal).
    package var route: Result<RESTRoute, RESTError>
    /// The bandwidth row the request's bytes go to: its device's for ingest, the protocol's overhead row otherwise.
    package var key: BandwidthKey

    /// The request target's path and decoded query (empty when the query is malformed: the route says so).
    package var path: String
    package var query: [(name: String, value: String)]

    /// Routes a request head; refusals are decided here, before any body is read.
    package init(method: String, target: String, isHTTP2: Bool) {
        let wireProtocol = RESTRoute.wireProtocol(method: method, isHTTP2: isHTTP2)
        let split = RESTRequest.split(target: target)
        path = split?.path ?? String(target.prefix { $0 != "?" })
        query = split?.query ?? []
        do throws(RESTError) {
            let route = try RESTRoute.match(method: method, path: path)
            if split == nil { throw RESTError.badRequest("malformed percent escape in the query string") }
            self.route = .success(route)
            if case .ingest(let deviceID) = route {
                key = BandwidthKey(wireProtocol, deviceID)
            } else {
                key = .overhead(wireProtocol)
            }
        } catch {
            self.route = .failure(error)
            key = .overhead(wireProtocol)
        }
    }
}
