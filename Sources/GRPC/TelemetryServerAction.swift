import Telemetry

/// What a Telemetry server handler asks its host to do: send a response part on the call's transport, or store
/// a batch (the service's one side effect) and report the outcome back with `committed`/`storeFailed`. The host is
/// the transport adapter; it performs these and decides nothing about the call.
public enum TelemetryServerAction: Equatable, Sendable {
    /// Send this part of the response.
    case send(GRPCResponsePart)
    /// Store this batch for the call's device.
    case submit(ReadingBatch)
}
