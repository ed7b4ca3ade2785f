/// The RPCs of `telemetry.v1.Telemetry`, with the protocol name each one is accounted under.
public enum TelemetryMethod: String, Sendable, CaseIterable {
    /// Client stream of batches, one Ack at the end.
    case upload = "/telemetry.v1.Telemetry/Upload"
    /// One batch, one Ack.
    case push = "/telemetry.v1.Telemetry/Push"

    /// The path prefix every method of the service shares.
    public static let servicePathPrefix = "/telemetry.v1.Telemetry/"

    /// The bandwidth report's protocol name for calls of this method.
    public var protocolName: String {
        switch self {
        case .upload: "grpc-stream"
        case .push: "grpc-unary"
        }
    }
}
