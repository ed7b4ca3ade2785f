import GRPC

/// A refusal by authentication or authorization: 401/UNAUTHENTICATED or 403/PERMISSION_DENIED, with a message
/// that names the problem and never a token.
package struct AccessRefusal: Error, Equatable, Sendable {
    /// Which of the two answers the refusal gets.
    package enum Kind: Equatable, Sendable {
        /// No credential, a malformed one, or one that is nobody's: 401 / UNAUTHENTICATED.
        case unauthenticated
        /// A real credential that may not do this: 403 / PERMISSION_DENIED.
        case forbidden
    }

    /// 401 or 403.
    package var kind: Kind
    /// What is wrong with the credential, naming no secret.
    package var message: String

    /// The REST error: 401 with `WWW-Authenticate: Bearer`, or 403.
    var restError: RESTError {
        switch kind {
        case .unauthenticated:
            RESTError(401, "unauthenticated", message, headers: [("www-authenticate", #"Bearer realm="fleetwire""#)])
        case .forbidden:
            RESTError(403, "forbidden", message)
        }
    }

    /// The gRPC status.
    package var grpcStatus: GRPCStatus {
        GRPCStatus(kind == .unauthenticated ? .unauthenticated : .permissionDenied, message)
    }
}
