import Telemetry

/// The handler of `Upload` (client stream) and `Push` (unary): carries a `TelemetryServerCall` (whose rules decide
/// everything) and turns its outcomes into response parts: an Ack is headers, the Ack message and OK; a failure is
/// a lone status (Trailers-Only).
public final class TelemetryCallHandler: TelemetryServerHandler {
    private var call: TelemetryServerCall
    /// Sync: response headers went out with the first Ack.
    private var hasSentHeaders = false

    /// The handler of a call whose head was validated; its batches are decoded within `limits`.
    public init(head: TelemetryRequestHead, limits: DecodeLimits = .standard) {
        call = TelemetryServerCall(head: head, limits: limits)
    }

    /// The call's validated head.
    public var head: TelemetryRequestHead { call.head }
    /// Request messages received so far.
    public var messageCount: Int { call.messageCount }
    /// Request bytes held until the rest of their message (or, for Push, the client's end) arrives.
    public var bufferedBytes: Int { call.bufferedBytes }
    /// Batches handed to the store and not yet committed.
    public var outstandingBatches: Int { call.outstandingBatches }
    /// True once the client half-closed or the call finished.
    public var isRequestComplete: Bool { call.isRequestComplete }
    /// True once the call produced its final status or was cancelled.
    public var isFinished: Bool { call.isFinished }

    /// Feeds request bytes: an Upload's decoded batches come back as `.submit` (Push holds its one batch until
    /// the client's end), a failure as a lone status.
    public func receive(_ bytes: UnsafeRawBufferPointer) -> [TelemetryServerAction] {
        translate(call.receive(bytes))
    }

    /// The client half-closed: Push submits its batch now; an Upload with nothing outstanding is answered.
    public func receiveEnd() -> [TelemetryServerAction] { translate(call.receiveEnd()) }

    /// A submitted batch committed; once the client has ended and nothing is outstanding, the Ack goes out.
    public func committed(readingsStored: Int, isDuplicate: Bool, lastSeq: UInt64) -> [TelemetryServerAction] {
        translate(call.committed(readingsStored: readingsStored, isDuplicate: isDuplicate, lastSeq: lastSeq))
    }

    /// A submitted batch could not be stored: the call ends with `status`.
    public func storeFailed(_ status: GRPCStatus) -> [TelemetryServerAction] {
        translate(call.storeFailed(status))
    }

    /// Sync: batches committed since the last Ack wait for `takeDueAck`.
    public var hasDueAck: Bool { call.hasDueAck }

    /// Sync: the Ack of the batches committed since the last one (the host takes it once per loop turn, so batches
    /// that committed together share one Ack).
    public func takeDueAck() -> [TelemetryServerAction] { translate(call.takeDueAck()) }

    /// The deadline passed: the call ends with DEADLINE_EXCEEDED unless it already finished.
    public func deadlineExpired() -> [TelemetryServerAction] { translate(call.deadlineExpired()) }

    /// The client or the transport went away: nothing more is sent or submitted.
    public func cancel() { call.cancel() }

    private func translate(_ actions: [TelemetryServerCall.Action]) -> [TelemetryServerAction] {
        var translated: [TelemetryServerAction] = []
        translated.reserveCapacity(actions.count)
        for action in actions {
            switch action {
            case .submit(let batch): translated.append(.submit(batch))
            case .respond(let ack):
                translated += [
                    .send(.headers(.responseHeaders)), .send(.message(ack.protobufBytes())),
                    .send(.status(.ok, trailers: GRPCMetadata())),
                ]
            case .acknowledge(let ack):
                if !hasSentHeaders { translated.append(.send(.headers(.responseHeaders))) }
                hasSentHeaders = true
                translated.append(.send(.message(ack.protobufBytes())))
            case .finishStream: translated.append(.send(.status(.ok, trailers: GRPCMetadata())))
            case .fail(let status): translated.append(.send(.status(status, trailers: GRPCMetadata())))
            }
        }
        return translated
    }
}
