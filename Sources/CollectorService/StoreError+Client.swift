import GRPC
import Storage

extension StoreError {
    /// The message a client sees: what happened and that a retry is safe.
    var clientMessage: String {
        switch self {
        case .overloaded: "the store is overloaded; retry later (retries are deduplicated by seq)"
        case .closed: "the collector is shutting down; retry later"
        default: "storage is failing (\(self)); retry later"
        }
    }

    /// The gRPC status for a failed submission: UNAVAILABLE when retrying can help, INTERNAL otherwise.
    package var grpcStatus: GRPCStatus {
        GRPCStatus(isUnavailable ? .unavailable : .internal, clientMessage)
    }

    /// The REST error for a failed submission: 503 with Retry-After when retrying can help.
    var restError: RESTError {
        isUnavailable ? .unavailable(clientMessage) : RESTError(500, "internal", clientMessage)
    }
}
