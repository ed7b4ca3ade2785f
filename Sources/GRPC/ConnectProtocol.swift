// The Connect protocol's pure parts (connectrpc.com/docs/protocol), for the HTTP/1.1 and HTTP/2 transports of
// issue 15 and their clients. Connect carries the same calls as gRPC without gRPC's framing and trailers:
// - a unary call is a POST of the bare message with `Content-Type: application/proto` or `application/json`
//   (protobuf's canonical JSON mapping), answered with 200 and the bare message, or with an error status from the
//   table below and the JSON error body `{"code":"invalid_argument","message":"…"}`;
// - a streaming call uses `application/connect+proto` / `application/connect+json`, with every message in an
//   envelope (`ConnectEnvelope`) and the outcome in a final end-of-stream envelope instead of trailers;
// - `Connect-Protocol-Version: 1` (optional here: curl users need not send it), `Connect-Timeout-Ms` (1 to 10
//   digits) and, for compression, `Content-Encoding` (unary) / `Connect-Content-Encoding` (streaming); we speak
//   identity only and answer anything else with unimplemented.
//
// Codes are gRPC's (`GRPCStatus.Code`): the handlers are the gRPC ones, only the spelling at the edge differs.

import Telemetry

/// Content types, headers, codes and the error body of the Connect protocol.
public enum ConnectProtocol {
    /// How messages are encoded.
    public enum Codec: Equatable, Sendable {
        /// Binary protobuf.
        case proto
        /// Protobuf's canonical JSON mapping.
        case json
    }

    /// The header carrying the protocol version (`1`).
    public static let protocolVersionHeader = "connect-protocol-version"
    /// The header carrying the call's timeout in milliseconds.
    public static let timeoutHeader = "connect-timeout-ms"
    /// The header naming a streaming call's message compression.
    public static let streamingContentEncodingHeader = "connect-content-encoding"
    /// The content type of every error body (and of JSON messages).
    public static let errorContentType = "application/json"
    /// The unary content types a server accepts, for the `Accept-Post` header of a 415 answer.
    public static let acceptedUnaryContentTypes = "application/proto, application/json"

    /// The codec of a unary call's `content-type`: `application/proto` or `application/json`, case-insensitive;
    /// nil for anything else (a 415). A `charset` parameter, when given, must be `utf-8` (JSON is UTF-8); other
    /// parameters are ignored.
    public static func unaryCodec(ofContentType value: String) -> Codec? {
        guard let (type, charset) = mediaType(value), charset == nil || charset == "utf-8" else { return nil }
        switch type {
        case "application/proto": return .proto
        case "application/json": return .json
        default: return nil
        }
    }

    /// The codec of a streaming call's `content-type`: `application/connect+proto` or `application/connect+json`.
    public static func streamingCodec(ofContentType value: String) -> Codec? {
        guard let (type, charset) = mediaType(value), charset == nil || charset == "utf-8" else { return nil }
        switch type {
        case "application/connect+proto": return .proto
        case "application/connect+json": return .json
        default: return nil
        }
    }

    /// The `content-type` of a unary response in `codec`.
    public static func unaryContentType(_ codec: Codec) -> String {
        codec == .proto ? "application/proto" : "application/json"
    }

    /// The `content-type` of a streaming response in `codec`.
    public static func streamingContentType(_ codec: Codec) -> String {
        codec == .proto ? "application/connect+proto" : "application/connect+json"
    }

    /// The media type in lower case and the `charset` parameter's value (lower case, quotes removed), if any;
    /// nil for an empty type.
    private static func mediaType(_ value: String) -> (String, String?)? {
        let parts = value.split(separator: ";", omittingEmptySubsequences: false).map(trimmed)
        guard let type = parts.first?.lowercased(), !type.isEmpty else { return nil }
        var charset: String?
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            guard trimmed(parameter[..<equals]).lowercased() == "charset" else { continue }
            var text = trimmed(parameter[parameter.index(after: equals)...])
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
                text = String(text.dropFirst().dropLast())
            }
            charset = text.lowercased()
        }
        return (type, charset)
    }

    /// `text` without surrounding spaces and tabs.
    private static func trimmed(_ text: Substring) -> String {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }

    /// Checks `Connect-Protocol-Version`: absent or `1`; any other value is invalid_argument naming it.
    public static func checkProtocolVersion(_ value: String?) throws(GRPCStatus) {
        guard let value, value != "1" else { return }
        throw GRPCStatus(.invalidArgument, "connect-protocol-version \"\(shown(value))\" is not supported; send 1")
    }

    /// The call's timeout in nanoseconds from `Connect-Timeout-Ms`: 1 to 10 ASCII digits (0 means already
    /// expired); anything else is invalid_argument naming the value.
    public static func parseTimeout(_ value: String) throws(GRPCStatus) -> UInt64 {
        let digits = Array(value.utf8)
        guard (1...10).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw GRPCStatus(.invalidArgument, "connect-timeout-ms \"\(shown(value))\" must be 1 to 10 ASCII digits")
        }
        let milliseconds = digits.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - 0x30) }
        return milliseconds * 1_000_000  // at most 9,999,999,999 ms: no overflow
    }

    /// Checks a unary call's `Content-Encoding` (or a streaming call's `Connect-Content-Encoding`): absent or
    /// `identity`; any other is unimplemented, naming it (the only encoding we speak is identity).
    public static func checkContentEncoding(_ value: String?) throws(GRPCStatus) {
        guard let value, value.lowercased() != "identity" else { return }
        throw GRPCStatus(.unimplemented, "content encoding \"\(shown(value))\" is not supported; send identity")
    }

    /// A header value as an error message repeats it: at most 64 characters.
    private static func shown(_ value: String) -> String {
        value.count <= 64 ? value : String(value.prefix(64)) + "…"
    }
}

extension GRPCStatus.Code {
    /// The Connect protocol's name of the code (`invalid_argument`; note `canceled`, with one l). OK is not an
    /// error code: an error carrying it is sent as `unknown`.
    public var connectName: String {
        switch self {
        case .ok, .unknown: "unknown"
        case .cancelled: "canceled"
        case .invalidArgument: "invalid_argument"
        case .deadlineExceeded: "deadline_exceeded"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .permissionDenied: "permission_denied"
        case .resourceExhausted: "resource_exhausted"
        case .failedPrecondition: "failed_precondition"
        case .aborted: "aborted"
        case .outOfRange: "out_of_range"
        case .unimplemented: "unimplemented"
        case .internal: "internal"
        case .unavailable: "unavailable"
        case .dataLoss: "data_loss"
        case .unauthenticated: "unauthenticated"
        }
    }

    /// The code a Connect name stands for; nil for a name the protocol does not define.
    public init?(connectName: String) {
        guard let code = Self.allCases.first(where: { $0 != .ok && $0.connectName == connectName }) else {
            return nil
        }
        self = code
    }

    /// The HTTP status of a unary Connect error with this code (the protocol's table).
    public var connectHTTPStatus: Int {
        switch self {
        case .cancelled: 499
        case .ok, .unknown, .internal, .dataLoss: 500
        case .invalidArgument, .failedPrecondition, .outOfRange: 400
        case .deadlineExceeded: 504
        case .notFound: 404
        case .alreadyExists, .aborted: 409
        case .permissionDenied: 403
        case .resourceExhausted: 429
        case .unimplemented: 501
        case .unavailable: 503
        case .unauthenticated: 401
        }
    }
}

extension GRPCStatus {
    /// The Connect error body, `{"code":"invalid_argument","message":"…"}` (the message left out when empty).
    public var connectErrorJSON: [UInt8] {
        var writer = JSONWriter(reservingCapacity: 48 + message.utf8.count)
        writeConnectError(to: &writer)
        return writer.bytes
    }

    /// Writes the error object (code, then the message when there is one).
    func writeConnectError(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("code")
        writer.value(code.connectName)
        if !message.isEmpty {
            writer.key("message")
            writer.value(message)
        }
        writer.endObject()
    }

    /// The status a Connect client reads from an error answer: the body's `code` and `message` when the body is
    /// a Connect error object, else the code the HTTP status maps to (as gRPC's HTTP mapping does).
    public init(connectErrorBody body: some Collection<UInt8>, httpStatus: Int) {
        guard let object = try? JSONValue.parse(body), let status = GRPCStatus(connectError: object) else {
            self = GRPCStatus.fromHTTPStatus(httpStatus)
            return
        }
        self = status
    }

    /// The status an error object (`{"code","message"}`) names; nil when it names no known code.
    init?(connectError object: JSONValue) {
        guard let name = object["code"]?.stringValue, let code = Code(connectName: name) else { return nil }
        self.init(code, object["message"]?.stringValue ?? "")
    }
}
