// The contract between a transport and one Telemetry call, whatever its kind: the transport feeds request parts
// (the head went to the router's factory; then message bytes, then the end) and store outcomes, and performs the
// actions returned. Client-stream Upload, unary Push and bidirectional Sync implement it (TelemetryCallHandler;
// Sync answers per commit with `.send(.message(…))` parts taken by `takeDueAck`), and an HTTP/1.1 gRPC-Web
// transport would drive the same handlers as the HTTP/2 one.

import Telemetry

/// One Telemetry call on the server as its transport drives it; a reference type, so that a late store completion
/// or timer reaches the call it belongs to without any lookup.
public protocol TelemetryServerHandler: AnyObject {
    /// The call's validated head (device, deadline, credentials).
    var head: TelemetryRequestHead { get }
    /// Request messages received so far (each cost a 5-byte prefix on the wire).
    var messageCount: Int { get }
    /// Request bytes held while waiting for the rest of a message (what a stalled client costs).
    var bufferedBytes: Int { get }
    /// Batches handed to the store and not yet committed (a transport may hold request bytes back past a share).
    var outstandingBatches: Int { get }
    /// True once the client half-closed or the call finished: it is no longer waiting for request bytes.
    var isRequestComplete: Bool { get }
    /// True once the call produced its final status or was cancelled.
    var isFinished: Bool { get }

    /// Request message bytes (length-prefixed messages, split anywhere); the pointer is valid only during the call.
    func receive(_ bytes: UnsafeRawBufferPointer) -> [TelemetryServerAction]
    /// The client half-closed its side.
    func receiveEnd() -> [TelemetryServerAction]
    /// A submitted batch committed (`readingsStored` new readings, or a duplicate); `lastSeq` is the device's
    /// highest stored seq afterwards.
    func committed(readingsStored: Int, isDuplicate: Bool, lastSeq: UInt64) -> [TelemetryServerAction]
    /// A submitted batch could not be stored, or may not be: the call fails with `status`.
    func storeFailed(_ status: GRPCStatus) -> [TelemetryServerAction]
    /// True when the call has response messages waiting to be taken with `takeDueAck` (Sync's Acks).
    var hasDueAck: Bool { get }
    /// The response messages due now (Sync: one Ack for the batches committed since the last one); the host calls
    /// it once per turn of its loop after a commit, so commits that land together share a message.
    func takeDueAck() -> [TelemetryServerAction]
    /// The call's deadline passed.
    func deadlineExpired() -> [TelemetryServerAction]
    /// The client or the transport went away: nothing more is sent or submitted.
    func cancel()
}
