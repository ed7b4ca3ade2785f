import Telemetry

/// The handler of `Upload` (client stream) and `Push` (unary): carries a `TelemetryServerCall` (whose rules decide
/// everything) and turns its outcomes into response parts: an Ack is headers, the Ack message and OK; a failure is
/// a lone status (Trailers-Only).
public final class TelemetryCallHandler: TelemetryServerHandler {
    private var call: TelemetryServerCall

    /// The handler of a call whose head was validated; its batches are decoded within `limits`.
    public init(head: TelemetryRequestHead, limits: DecodeLimits = .standard) {
        call = TelemetryServerCall(head: head, limits: limits)
    }

    public var head: TelemetryRequestHead { call.head }
    public var messageCount: Int { call.messageCount }
    public var bufferedBytes: Int { call.bufferedBytes }
    public var isRequestComplete: Bool { call.isRequestComplete }
    public var isFinished: Bool { call.isFinished }

    public func receive(_ bytes: UnsafeRawBufferPointer) -> [TelemetryServerAction] {
        Self.translate(call.receive(bytes))
    }

    public func receiveEnd() -> [TelemetryServerAction] { Self.translate(call.receiveEnd()) }

    public func committed(readingsStored: Int, isDuplicate: Bool, lastSeq: UInt64) -> [TelemetryServerAction] {
        Self.translate(call.committed(readingsStored: readingsStored, isDuplicate: isDuplicate, lastSeq: lastSeq))
    }

    public func storeFailed(_ status: GRPCStatus) -> [TelemetryServerAction] {
        Self.translate(call.storeFailed(status))
    }

    public func deadlineExpired() -> [TelemetryServerAction] { Self.translate(call.deadlineExpired()) }

    public func cancel() { call.cancel() }

    private static func translate(_ actions: [TelemetryServerCall.Action]) -> [TelemetryServerAction] {
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
            case .fail(let status): translated.append(.send(.status(status, trailers: GRPCMetadata())))
            }
        }
        return translated
    }
}
