import Testing
import GRPC
import Telemetry

/// Sync's rules: submit as batches arrive, an Ack per turn for the batches committed since the last one, OK after
/// the client's end and the last commit; stream context on Upload and Sync, refused on Push.
@Suite struct SyncCallTests {
    typealias Call = TelemetryServerCallTests

    static func syncCall() -> TelemetryServerCall {
        TelemetryServerCall(head: TelemetryRequestHead(method: .sync, deviceID: "d1"))
    }

    @Test func acksFollowCommitsBeforeTheClientEnds() {
        var call = Self.syncCall()
        let submitted = Call.feed(&call, Call.framed([Call.batch(1), Call.batch(2), Call.batch(3)]))
        #expect(submitted.count == 3)
        #expect(!call.hasDueAck && call.takeDueAck().isEmpty)
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1).isEmpty)
        #expect(call.hasDueAck)
        #expect(call.takeDueAck() == [.acknowledge(Ack(batches: 1, readings: 3, duplicateBatches: 0, lastSeq: 1))])
        #expect(!call.hasDueAck)
        // Two commits in one turn share an Ack; the figures are those of the batches it covers.
        _ = call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 2)
        _ = call.committed(readingsStored: 0, isDuplicate: true, lastSeq: 2)
        #expect(call.takeDueAck() == [.acknowledge(Ack(batches: 2, readings: 3, duplicateBatches: 1, lastSeq: 2))])
        #expect(!call.isFinished)
        #expect(call.receiveEnd() == [.finishStream])
        #expect(call.isFinished)
    }

    @Test func theEndWaitsForTheLastCommitAndCarriesItsAck() {
        var call = Self.syncCall()
        _ = Call.feed(&call, Call.framed([Call.batch(7)]))
        #expect(call.receiveEnd().isEmpty)
        #expect(call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 7)
                == [.acknowledge(Ack(batches: 1, readings: 3, duplicateBatches: 0, lastSeq: 7)), .finishStream])
    }

    @Test func aFailureEndsTheStreamAfterTheAcksAlreadySent() {
        var call = Self.syncCall()
        _ = Call.feed(&call, Call.framed([Call.batch(1)]))
        _ = call.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1)
        #expect(call.takeDueAck().count == 1)
        let actions = Call.feed(&call, [0, 0, 0, 0, 2, 0xFF, 0xFF])
        guard case .fail(let status)? = actions.last else { Issue.record("expected failure"); return }
        #expect(status.code == .invalidArgument)
        #expect(call.isFinished && call.takeDueAck().isEmpty)
    }

    @Test func theHandlerSendsHeadersOnceThenAcksThenOK() {
        let handler = TelemetryCallHandler(head: TelemetryRequestHead(method: .sync, deviceID: "d1"))
        _ = Call.framed([Call.batch(1), Call.batch(2)]).withUnsafeBytes { handler.receive($0) }
        _ = handler.committed(readingsStored: 3, isDuplicate: false, lastSeq: 1)
        let first = handler.takeDueAck()
        #expect(first.count == 2)
        #expect(first.first == .send(.headers(.responseHeaders)))
        _ = handler.committed(readingsStored: 3, isDuplicate: false, lastSeq: 2)
        #expect(handler.takeDueAck()
                == [.send(.message(Ack(batches: 1, readings: 3, duplicateBatches: 0, lastSeq: 2).protobufBytes()))])
        #expect(handler.receiveEnd() == [.send(.status(.ok, trailers: GRPCMetadata()))])
    }

    @Test func streamContextIsResolvedOnStreamsAndRefusedOnPush() {
        var encoder = StreamContextEncoder()
        let plain = [Call.batch(1), Batch(seq: 2, series: [
            Series(sensor: "temperature", exponent: -2, startMs: 4000, intervalMs: 1000, mantissaDeltas: [1, 1])])]
        let compact = plain.map { encoder.encode($0) }
        #expect(compact[1].series[0].sensor.isEmpty && compact[1].seq == 0)
        for method in [TelemetryMethod.upload, .sync] {
            var call = TelemetryServerCall(head: TelemetryRequestHead(method: method, deviceID: "d1"))
            #expect(Call.feed(&call, Call.framed(compact)) == plain.map { .submit(ReadingBatch($0)) })
        }
        var push = TelemetryServerCall(head: TelemetryRequestHead(method: .push, deviceID: "d1"))
        let refused = Call.feed(&push, Call.framed([compact[1]]))
        guard case .fail(let status)? = refused.last else { Issue.record("expected failure"); return }
        #expect(status.code == .invalidArgument && status.message.contains("series[0].sensor"))
    }

    @Test func aStreamThatContinuesAnUnknownSeriesIsRefusedNamingIt() {
        var call = Self.syncCall()
        let orphan = Batch(seq: 1, series: [Series(sensor: "", exponent: 0, startMs: 5, intervalMs: 0,
                                                   mantissaDeltas: [1], ref: 4)])
        let actions = Call.feed(&call, Call.framed([orphan]))
        guard case .fail(let status)? = actions.last else { Issue.record("expected failure"); return }
        #expect(status.code == .invalidArgument)
        #expect(status.message.contains("series[0].ref") && status.message.contains("continues series 4"),
                "\(status.message)")
    }
}
