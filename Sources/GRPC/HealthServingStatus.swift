import Telemetry

/// `grpc.health.v1.HealthCheckResponse.ServingStatus`: what the Health service answers about a service, and the
/// whole `HealthCheckResponse` it travels in.
public enum HealthServingStatus: UInt64, Sendable, CaseIterable {
    /// Not used by this server (the proto3 default).
    case unknown = 0
    /// The service takes requests.
    case serving = 1
    /// The service should not be sent requests now.
    case notServing = 2
    /// Watch only: the service named is not one this server knows.
    case serviceUnknown = 3

    /// The name in health.proto (`NOT_SERVING`), for logs and test messages.
    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .serving: "SERVING"
        case .notServing: "NOT_SERVING"
        case .serviceUnknown: "SERVICE_UNKNOWN"
        }
    }

    /// The `HealthCheckResponse` message carrying this status (field 1, an enum).
    public var responseBytes: [UInt8] {
        var writer = ProtobufMessageWriter()
        writer.appendVarint(1, rawValue)
        return writer.bytes
    }
}
