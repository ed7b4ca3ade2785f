import Simulation
import Telemetry

/// How one call ended, as a link reports it to its device: answered with an Ack, or failed.
enum CallOutcome: Equatable {
    /// The call was answered with this Ack.
    case acked(Ack)
    /// The call failed; the device decides from the failure whether to retry.
    case failed(DeviceFailure)
}
