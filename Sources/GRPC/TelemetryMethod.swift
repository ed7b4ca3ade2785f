/// The RPCs of `telemetry.v1.Telemetry` (the bandwidth protocol each is accounted under is `Accounting`'s
/// `WireProtocol`, mapped in the collector).
public enum TelemetryMethod: String, Sendable, CaseIterable {
    /// Client stream of batches, one Ack at the end.
    case upload = "/telemetry.v1.Telemetry/Upload"
    /// One batch, one Ack.
    case push = "/telemetry.v1.Telemetry/Push"
    /// Bidirectional stream of batches, an Ack per commit.
    case sync = "/telemetry.v1.Telemetry/Sync"

    /// The path prefix every method of the service shares.
    public static let servicePathPrefix = "/telemetry.v1.Telemetry/"
}

extension TelemetryMethod {
    /// Why a gRPC-Web (or Connect) request may not call `method`, or nil when it may: gRPC-Web carries unary and
    /// server-streaming calls only, and Upload and Sync stream from the client, which browsers cannot send.
    public static func webRefusal(_ method: TelemetryMethod) -> GRPCStatus? {
        switch method {
        case .push: nil
        case .upload, .sync:
            GRPCStatus(
                .unimplemented,
                "\(method.rawValue) streams from the client, which gRPC-Web and Connect cannot carry; "
                    + "send each batch with \(TelemetryMethod.push.rawValue) or POST /v1/devices/{device}/readings")
        }
    }
}
