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
