// What can go wrong between a device and the collector, as the networking layer reports it, and what the device
// does about it.
//
// Retryable (the batches are kept and re-sent after a backoff): the connection could not be made or was lost,
// the call timed out, or the collector said "not now": gRPC UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED,
// ABORTED; HTTP 408, 429, 502, 503, 504 (the collector answers UNAVAILABLE / 503 when its write queue is full).
// Everything else is final (gRPC INVALID_ARGUMENT, INTERNAL, …; HTTP 400, 413, 500, …; an answer that cannot be
// read): sending the same bytes again would fail again, so the call's batches are dropped and counted.
// An authentication refusal (gRPC UNAUTHENTICATED, PERMISSION_DENIED; HTTP 401, 403) is final for the device as a
// whole: its token is wrong or it is revoked, and every further call would be refused too, so it stops.

/// A failed connection attempt, call or connection.
public enum DeviceFailure: Hashable, Sendable, CustomStringConvertible {
    /// The connection attempt was refused (ECONNREFUSED) or could not be made.
    case connectionRefused
    /// The connection was reset (ECONNRESET, EPIPE).
    case connectionReset
    /// The peer closed the connection (EOF, HTTP/2 GOAWAY) while a call was in flight.
    case connectionClosed
    /// No answer within the driver's deadline.
    case timedOut
    /// The call ended with this non-OK `grpc-status` code.
    case grpcStatus(Int)
    /// The request was answered with this non-2xx HTTP status.
    case httpStatus(Int)
    /// The answer could not be read (bad framing, an Ack that does not decode).
    case malformedResponse

    /// The statistics bucket the failure is counted in.
    public var kind: ErrorKind {
        switch self {
        case .connectionRefused: .refused
        case .connectionReset: .reset
        case .connectionClosed: .closed
        case .timedOut: .timeout
        case .grpcStatus, .httpStatus: isRetryable ? .unavailable : .rejected
        case .malformedResponse: .malformed
        }
    }

    /// True when the same batches should be sent again after a backoff.
    public var isRetryable: Bool {
        switch self {
        case .connectionRefused, .connectionReset, .connectionClosed, .timedOut: true
        case .grpcStatus(let code):
            switch code {
            case 4, 8, 10, 14: true
            default: false
            }
        case .httpStatus(let status):
            switch status {
            case 408, 429, 502, 503, 504: true
            default: false
            }
        case .malformedResponse: false
        }
    }

    /// True for the refusals that stop the device: gRPC UNAUTHENTICATED (16) or PERMISSION_DENIED (7), HTTP 401 or 403.
    public var isAuthenticationRefusal: Bool {
        switch self {
        case .grpcStatus(let code): code == 16 || code == 7
        case .httpStatus(let status): status == 401 || status == 403
        default: false
        }
    }

    /// What an authentication refusal means, for the report (nil for other failures).
    public var authenticationMeaning: String? {
        switch self {
        case .grpcStatus(16), .httpStatus(401): "not authenticated: missing or wrong token (check --fleet-key-file)"
        case .grpcStatus(7), .httpStatus(403): "not allowed: device revoked, or the token is another device's"
        default: nil
        }
    }

    /// A short label for logs (`grpc-status 14`, `http 503`, `connection refused`).
    public var description: String {
        switch self {
        case .connectionRefused: "connection refused"
        case .connectionReset: "connection reset"
        case .connectionClosed: "connection closed"
        case .timedOut: "timed out"
        case .grpcStatus(let code): "grpc-status \(code)"
        case .httpStatus(let status): "http \(status)"
        case .malformedResponse: "malformed response"
        }
    }
}

/// The kinds of failure the report counts separately.
public enum ErrorKind: String, CaseIterable, Equatable, Hashable, Sendable {
    /// Connection attempts refused.
    case refused
    /// Connections reset.
    case reset
    /// Connections closed by the peer during a call.
    case closed
    /// Calls that got no answer in time.
    case timeout
    /// Retryable statuses: the collector was busy or unreachable behind a proxy.
    case unavailable
    /// Final statuses: the request was refused; its batches were dropped.
    case rejected
    /// Answers that could not be read; their batches were dropped.
    case malformed

    /// The label in reports.
    public var name: String { rawValue }
}
