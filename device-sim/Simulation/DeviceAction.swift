// What a simulated device asks the networking layer to do. The device performs no I/O; a driver performs these in
// order and reports back with `DeviceEvent`s.
//
// Contract with the driver:
// - At most one connection per device. `.connect` opens it (answer: `.connected` or `.connectFailed`);
//   `.disconnect` closes it (or abandons a connect in progress), after which no event of that connection may be
//   delivered. A driver that loses the connection reports `.disconnected`.
// - At most one call in flight. `.openUploadStream` starts an `Upload` call (metadata `device-id`);
//   `.sendOnStream` writes a batch on it; `.halfCloseStream` ends its request side. `.openSyncStream` starts a
//   `Sync` call the same way; each Ack on it comes back as `.streamAcked` (the oldest batches in flight, with each
//   one's latency since it was sent), and after `.halfCloseSyncStream` an OK end as `.streamEnded`. `.push` is one
//   `Push` call (gRPC over HTTP/2; for grpc-web, grpc-web-text and connect devices the same call over HTTP/1.1)
//   and `.post` one `POST /v1/devices/{device}/readings` on the HTTP/1.1 connection. The call's outcome comes back
//   as `.acked` (echoing `requestSeqs` of the action that completed the request, and the latency since it) or
//   `.callFailed` / `.disconnected`.
// - `.scheduleWake(atNs:)` asks for one `.tick` at that real monotonic time; it replaces any wake asked for
//   earlier. Early or extra ticks are harmless.
// - `.finished` is the device's last action: it has nothing left to send and has closed its connection.

import Telemetry

/// One thing for the driver to do; see above.
public enum DeviceAction: Equatable, Sendable {
    /// Open the device's connection to the collector.
    case connect
    /// Start a gRPC `Upload` client stream on the connection.
    case openUploadStream
    /// Send this batch as the next message of the open `Upload` stream.
    case sendOnStream(Batch)
    /// End the request side of the `Upload` stream; its Ack will cover the batches with these seqs.
    case halfCloseStream(covering: ClosedRange<UInt64>)
    /// Start a gRPC `Sync` bidirectional stream on the connection; batches go with `.sendOnStream`, and each Ack
    /// that arrives on it is reported at once (`.streamAcked`).
    case openSyncStream
    /// End the request side of the `Sync` stream; the Acks still to come cover the batches in flight, then the
    /// stream ends (`.streamEnded`).
    case halfCloseSyncStream
    /// Make one `Push` call with this batch: gRPC over HTTP/2, or gRPC-Web / Connect over HTTP/1.1, as the
    /// device's protocol says.
    case push(Batch)
    /// Make one REST `POST /v1/devices/{device}/readings` with this batch as its JSON body (`jsonBytes()`).
    case post(ReadingBatch)
    /// Deliver a `.tick` at this real monotonic time (ns), replacing any earlier request.
    case scheduleWake(atNs: UInt64)
    /// Close the connection.
    case disconnect
    /// The device is done.
    case finished

    /// For the action that completes a request (`.halfCloseStream`, `.push`, `.post`): the seqs its answer covers,
    /// to echo in `.acked(_:covering:latencyNs:)`. Nil for every other action.
    public var requestSeqs: ClosedRange<UInt64>? {
        switch self {
        case .halfCloseStream(let seqs): seqs
        case .push(let batch): batch.seq...batch.seq
        case .post(let batch): batch.seq...batch.seq
        default: nil
        }
    }
}
