/// A gRPC call's outcome: the code clients act on (retry, give up, fix the request) and a message naming the
/// problem. Sent as `grpc-status` / `grpc-message` in trailers (or in a Trailers-Only response).
public struct GRPCStatus: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status codes of https://grpc.github.io/grpc/core/md_doc_statuscodes.html.
    public enum Code: Int, Sendable, CaseIterable {
        case ok = 0
        case cancelled = 1
        case unknown = 2
        case invalidArgument = 3
        case deadlineExceeded = 4
        case notFound = 5
        case alreadyExists = 6
        case permissionDenied = 7
        case resourceExhausted = 8
        case failedPrecondition = 9
        case aborted = 10
        case outOfRange = 11
        case unimplemented = 12
        case `internal` = 13
        case unavailable = 14
        case dataLoss = 15
        case unauthenticated = 16

        /// The canonical upper-case name (`INVALID_ARGUMENT`), as used in logs and metrics labels.
        public var name: String {
            switch self {
            case .ok: "OK"
            case .cancelled: "CANCELLED"
            case .unknown: "UNKNOWN"
            case .invalidArgument: "INVALID_ARGUMENT"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .notFound: "NOT_FOUND"
            case .alreadyExists: "ALREADY_EXISTS"
            case .permissionDenied: "PERMISSION_DENIED"
            case .resourceExhausted: "RESOURCE_EXHAUSTED"
            case .failedPrecondition: "FAILED_PRECONDITION"
            case .aborted: "ABORTED"
            case .outOfRange: "OUT_OF_RANGE"
            case .unimplemented: "UNIMPLEMENTED"
            case .internal: "INTERNAL"
            case .unavailable: "UNAVAILABLE"
            case .dataLoss: "DATA_LOSS"
            case .unauthenticated: "UNAUTHENTICATED"
            }
        }
    }

    /// What happened, for the client's retry logic.
    public var code: Code
    /// What went wrong and where, for a person.
    public var message: String

    /// A status with `code`; the message may be empty when the code says enough.
    public init(_ code: Code, _ message: String = "") {
        self.code = code
        self.message = message
    }

    /// The success status.
    public static let ok = GRPCStatus(.ok)

    /// The code's name, then the message when there is one (`UNAVAILABLE: overloaded`).
    public var description: String { message.isEmpty ? code.name : "\(code.name): \(message)" }

    /// The status a client synthesizes when a response carries no `grpc-status` (gRPC's HTTP-to-gRPC mapping).
    public static func fromHTTPStatus(_ status: Int) -> GRPCStatus {
        let code: Code
        switch status {
        case 400: code = .internal
        case 401: code = .unauthenticated
        case 403: code = .permissionDenied
        case 404: code = .unimplemented
        case 429, 502, 503, 504: code = .unavailable
        default: code = .unknown
        }
        return GRPCStatus(code, "HTTP status \(status) without grpc-status")
    }
}
