// What the networking layer tells a simulated device. Every event comes with the real monotonic time (ns) at which
// it happened: `SimulatedDevice.handle(_:at:)`.

import Telemetry

/// Something that happened to a device's connection or calls, or a wake-up.
public enum DeviceEvent: Equatable, Sendable {
    /// Begin: the device connects and starts taking readings. Events before `start` are ignored.
    case start
    /// A wake-up asked for with `.scheduleWake`, or any other moment: the device catches up with simulated time.
    case tick
    /// The connection asked for with `.connect` is established (TCP up; for gRPC the HTTP/2 preface sent).
    case connected
    /// The connection asked for with `.connect` could not be established.
    case connectFailed(DeviceFailure)
    /// The call in flight was answered with `ack`. `covering` is what the request-completing action said it covers
    /// (`DeviceAction.requestSeqs`): all batches sent on an Upload stream, or the one batch of a Push or POST.
    /// `latencyNs` is the time from that action to the answer.
    case acked(Ack, covering: ClosedRange<UInt64>, latencyNs: UInt64)
    /// An Ack arrived on the open `Sync` stream: it covers the oldest `ack.batches` batches in flight;
    /// `latenciesNs` has each covered batch's time from being sent to this Ack.
    case streamAcked(Ack, latenciesNs: [UInt64])
    /// The `Sync` stream ended with OK after its half-close.
    case streamEnded
    /// The call in flight failed (non-OK grpc-status, HTTP error status, timeout, unreadable answer) and the
    /// connection is still usable.
    case callFailed(DeviceFailure)
    /// The connection is gone. A call in flight fails with `failure`; a connection lost while idle is no error,
    /// and the device reconnects when it next has a batch to send.
    case disconnected(DeviceFailure)
    /// Stop producing: the device sends what it holds, then disconnects and reports `.finished`.
    case finish
}
