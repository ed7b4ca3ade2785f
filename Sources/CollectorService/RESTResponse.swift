/// A REST response, whichever transport carries it.
public struct RESTResponse: Sendable {
    /// HTTP status.
    public var status: Int
    /// Header fields (lower-case names; the transport adds framing headers such as Content-Length).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]

    /// A response with the given status, headers and body.
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
