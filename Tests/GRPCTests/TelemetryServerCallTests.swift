import Testing
import GRPC
import Telemetry

/// The server call's rules: submit as batches arrive, Ack only after every commit, first failure wins.
@Suite struct TelemetryServerCallTests {
    static func batch(_ seq: UInt64, readings: Int = 3) -> Batch {
        Batch(seq: seq, series: [Series(sensor: "temperature", exponent: -2, startMs: 1000, intervalMs: 1000,
                                        mantissaDeltas: Array(repeating: 1, count: readings))])
    }

    static func framed(_ batches: [Batch]) -> [UInt8] {
        batches.flatMap { GRPCMessageFramer.frame($0.protobufBytes()) }
    }

    static func feed(_ call: inout TelemetryServerCall, _ bytes: [UInt8]) -> [TelemetryServerCall.Action] {
        bytes.withUnsafeBytes { call.receive($0) }
    }

    @Test func uploadSubmitsAsBatchesArriveAndAcksAfterTheLastCommit() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        let first = Self.feed(&call, Self.framed([Self.batch(1), Self.batch(2)]))
        #expect(first == [.submit(ReadingBatch(Self.batch(1))), .submit(ReadingBatch(Self.batch(2)))])
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1).isEmpty)
        #expect(Self.feed(&call, Self.framed([Self.batch(2)])) == [.submit(ReadingBatch(Self.batch(2)))])
        #expect(call.receiveEnd().isEmpty)  // two batches still outstanding
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 2).isEmpty)
        #expect(call.committed(readingsStored: 0, isDuplicate: true, lastSeq: 2)
                == [.respond(Ack(batches: 3, readings: 6, duplicateBatches: 1, lastSeq: 2))])
        #expect(call.isFinished)
    }

    @Test func emptyUploadIsAcknowledgedAtOnce() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        #expect(call.receiveEnd() == [.respond(Ack())])
    }

    @Test func pushTakesExactlyOneBatch() {
        var none = TelemetryServerCall(head: TelemetryRequestHead(method: .push, deviceID: "d1"))
        guard case .fail(let status)? = none.receiveEnd().last else { Issue.record("expected failure"); return }
        #expect(status.code == .unimplemented)
        var two = TelemetryServerCall(head: TelemetryRequestHead(method: .push, deviceID: "d1"))
        let actions = Self.feed(&two, Self.framed([Self.batch(1), Self.batch(2)]))
        #expect(actions.count == 1, "the first batch was held for END_STREAM, so the failed Push stores nothing")
        guard case .fail(let second)? = actions.last else { Issue.record("expected failure"); return }
        #expect(second.code == .unimplemented)
    }

    @Test func pushIsSubmittedOnlyAtEndOfStream() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .push, deviceID: "d1"))
        let message = Self.framed([Self.batch(1)])
        #expect(Self.feed(&call, message).isEmpty, "decoded and held, not submitted")
        #expect(call.bufferedBytes == message.count - GRPCMessageFramer.prefixLength, "the held message counts")
        #expect(call.receiveEnd() == [.submit(ReadingBatch(Self.batch(1)))])
        #expect(call.bufferedBytes == 0)
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1)
                == [.respond(Ack(batches: 1, readings: 3, duplicateBatches: 0, lastSeq: 1))])
    }

    @Test func aPushResetBeforeEndOfStreamSubmitsNothing() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .push, deviceID: "d1"))
        #expect(Self.feed(&call, Self.framed([Self.batch(1)])).isEmpty)
        call.cancel()
        #expect(call.receiveEnd().isEmpty)
        #expect(call.bufferedBytes == 0)
    }

    @Test func malformedBatchFailsWithInvalidArgumentNamingTheBatchAndField() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        let bad = GRPCMessageFramer.frame([0x08, 1, 0x12, 3, 0x0A, 1, 0x41])  // sensor "A"
        let actions = Self.feed(&call, Self.framed([Self.batch(1)]) + bad)
        #expect(actions.count == 2)
        guard case .fail(let status)? = actions.last else { Issue.record("expected failure"); return }
        #expect(status.code == .invalidArgument)
        #expect(status.message.hasPrefix("batch 2: series[0].sensor:"))
        // The first batch was accepted and still completes; nothing more happens on the call.
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1).isEmpty)
        #expect(call.receiveEnd().isEmpty)
    }

    @Test func oversizedMessageIsResourceExhausted() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"),
                                       limits: DecodeLimits(maxMessageBytes: 10))
        guard case .fail(let status)? = Self.feed(&call, [0, 0, 0, 0, 11]).last else {
            Issue.record("expected failure")
            return
        }
        #expect(status.code == .resourceExhausted)
    }

    @Test func storeFailureAndDeadlineEndTheCall() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        _ = Self.feed(&call, Self.framed([Self.batch(1)]))
        #expect(call.storeFailed(GRPCStatus(.unavailable, "overloaded")) == [.fail(GRPCStatus(.unavailable, "overloaded"))])
        var late = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        guard case .fail(let status)? = late.deadlineExpired().last else { Issue.record("expected failure"); return }
        #expect(status.code == .deadlineExceeded)
        #expect(late.receiveEnd().isEmpty)
    }

    @Test func truncatedFinalMessageIsInvalidArgument() {
        var call = TelemetryServerCall(head: TelemetryRequestHead(method: .upload, deviceID: "d1"))
        _ = Self.feed(&call, [0, 0, 0, 0, 9, 1])
        guard case .fail(let status)? = call.receiveEnd().last else { Issue.record("expected failure"); return }
        #expect(status.code == .invalidArgument)
    }
}
