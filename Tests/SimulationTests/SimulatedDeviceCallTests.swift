import Telemetry
import Testing

@testable import Simulation

/// The device state machine with one call per batch (Push, POST), failures, the buffer bound and the end of a run.
@Suite struct SimulatedDeviceCallTests {
    @Test func aUnaryDevicePushesOneBatchPerCallAndWaitsForEachAnswer() {
        var harness = DeviceHarness(makeDevice(protocol: .grpcUnary))
        harness.send(.start)
        harness.send(.connected)
        let first = harness.advance(to: harness.closeTime(ofBatch: 2))  // two batches close before any answer
        #expect(first.compactMap(\.batchSeq) == [1])
        guard case .push(let batch) = first.first(where: { $0.batchSeq != nil }) else {
            Issue.record("expected a Push")
            return
        }
        #expect(batch.series.map(\.sensor) == ["temperature", "humidity", "pressure", "battery"])
        #expect(batch.series.map(\.exponent) == [-2, -1, -1, -3])
        harness.now += 3_000_000  // 3 ms after batch 2 closed
        let next = harness.ack()
        #expect(next.compactMap(\.batchSeq) == [2])
        // The latency runs from the Push of batch 1, one batch period earlier.
        #expect(harness.device.statistics.latency.maxNs == harness.now - harness.closeTime(ofBatch: 1))
        #expect(harness.device.statistics.latency.maxNs == 10_003_000_000)
        #expect(harness.device.statistics.calls == 2)
    }

    /// gRPC-Web and Connect devices ask for the same Push as grpc-unary (the driver picks the form from the
    /// protocol): the same batches, one call per batch, the same answers.
    @Test(arguments: [DeviceProtocol.grpcWeb, .grpcWebText, .connect])
    func anHTTP1PushDeviceAsksForTheSamePushesAsAUnaryDevice(deviceProtocol: DeviceProtocol) {
        func run(_ deviceProtocol: DeviceProtocol) -> [DeviceAction] {
            var harness = DeviceHarness(makeDevice(protocol: deviceProtocol))
            harness.send(.start)
            harness.send(.connected)
            var actions = harness.advance(to: harness.closeTime(ofBatch: 1))
            harness.now += 1_000_000
            actions += harness.ack()
            actions += harness.advance(to: harness.closeTime(ofBatch: 2))
            harness.now += 1_000_000
            actions += harness.send(.callFailed(.grpcStatus(14)))  // UNAVAILABLE: retried after a backoff
            actions += harness.advance(to: harness.closeTime(ofBatch: 3))
            return actions
        }
        let unary = run(.grpcUnary)
        #expect(unary.contains { if case .push = $0 { true } else { false } })
        #expect(run(deviceProtocol) == unary)
    }

    @Test func aRESTDevicePostsPlainReadingsOnTheGrid() throws {
        var harness = DeviceHarness(makeDevice(protocol: .rest))
        harness.send(.start)
        harness.send(.connected)
        let actions = harness.advance(to: harness.closeTime(ofBatch: 1))
        guard case .post(let body) = actions.first(where: { $0.batchSeq != nil }) else {
            Issue.record("expected a POST")
            return
        }
        #expect(body.seq == 1 && body.readingCount == 40)
        #expect(harness.request?.seqs == 1...1)
        // The JSON body carries the same values the compact form would.
        let compact = try Batch(body, defaultExponent: nil)
        let decoded = try ReadingBatch(json: body.jsonBytes())
        #expect(decoded.sensors.map(\.values) == ReadingBatch(compact).sensors.map(\.values))
    }

    @Test(arguments: [DeviceFailure.grpcStatus(3), .httpStatus(400), .httpStatus(500), .malformedResponse])
    func aFinalFailureDropsTheCallsBatchAndCountsIt(failure: DeviceFailure) {
        var harness = DeviceHarness(makeDevice(protocol: .grpcUnary))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 2))
        let next = harness.send(.callFailed(failure))
        #expect(harness.device.statistics.batchesDroppedRejected == 1)
        #expect(harness.device.statistics.readingsDropped == 40)
        #expect(harness.device.statistics.errors.total == 1)
        #expect(harness.device.retryAtNs == nil)  // no backoff: the next batch goes out at once
        #expect(next.compactMap(\.batchSeq) == [2])
    }

    @Test(arguments: [DeviceFailure.grpcStatus(14), .grpcStatus(8), .httpStatus(503), .httpStatus(429), .timedOut])
    func aRetryableFailureResendsTheSameBatchOnTheSameConnectionAfterABackoff(failure: DeviceFailure) {
        var harness = DeviceHarness(makeDevice(protocol: .rest))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 1))
        #expect(harness.send(.callFailed(failure)).allSatisfy { $0.isWake })
        #expect(harness.device.statistics.errors.total == 1)
        let retry = harness.advance(to: harness.device.retryAtNs!)
        #expect(retry.compactMap(\.batchSeq) == [1])
        #expect(!retry.contains(.connect))
        #expect(harness.device.statistics.batchesRetried == 1)
    }

    @Test func aFullBufferDropsTheOldestBatchAndCountsIt() {
        let settings = makeSettings(bufferCapacity: 3)
        var harness = DeviceHarness(makeDevice(protocol: .grpcUnary, settings: settings))
        harness.send(.start)
        harness.send(.connectFailed(.connectionRefused))
        // The collector stays away; five batches close while the device backs off and keeps failing.
        while harness.device.batchesClosed < 5 {
            harness.advance(to: harness.wake!)
            if harness.device.connection == .connecting { harness.send(.connectFailed(.connectionRefused)) }
        }
        #expect(harness.device.queue.batches.map(\.seq) == [3, 4, 5])
        #expect(harness.device.statistics.batchesDroppedFull == 2)
        #expect(harness.device.statistics.readingsDropped == 80)
        #expect(harness.device.statistics.batchesGenerated == 5)
    }

    @Test func theBufferNeverDropsTheCallInFlight() {
        var queue = BatchQueue(capacity: 2)
        func batch(_ seq: UInt64) -> PendingBatch { PendingBatch(seq: seq, startMs: 0, count: 1, mantissas: [1]) }
        _ = queue.append(batch(1))
        _ = queue.append(batch(2))
        _ = queue.sendNext()
        _ = queue.sendNext()  // 1 and 2 in flight
        #expect(queue.append(batch(3)).isEmpty)
        #expect(queue.append(batch(4)).isEmpty)
        #expect(queue.append(batch(5)).map(\.seq) == [3])  // two wait at most; the oldest waiting goes
        queue.requeueInFlight()  // the call failed: 1 and 2 wait again, ahead of 4 and 5
        #expect(queue.append(batch(6)).map(\.seq) == [1, 2, 4])
        #expect(queue.batches.map(\.seq) == [5, 6])
    }

    @Test func finishSendsWhatIsLeftThenDisconnects() {
        var harness = DeviceHarness(makeDevice(protocol: .grpcStream))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 2))
        harness.now = harness.closeTime(ofBatch: 3) + 1  // batch 3 closed but no wake delivered yet
        let finishing = harness.send(.finish)
        #expect(finishing.compactMap(\.batchSeq) == [3])  // produced on the way out and sent on the open stream
        #expect(finishing.last == .halfCloseStream(covering: 1...3))
        let done = harness.ack()
        #expect(done == [.disconnect, .finished])
        #expect(harness.device.isFinished)
        // A finished device ignores everything.
        #expect(harness.send(.tick).isEmpty && harness.send(.start).isEmpty)
    }

    @Test func theRunsDurationEndsProductionWithAPartialBatch() {
        let settings = makeSettings(durationMs: 25_000)
        var harness = DeviceHarness(makeDevice(protocol: .grpcUnary, settings: settings))
        harness.send(.start)
        harness.send(.connected)
        let endMs = testStartMs + 25_000
        var readings = 0
        while !harness.isFinished {
            if harness.request != nil {
                harness.ack()
            } else {
                harness.advance(to: harness.wake!)
            }
            readings = Int(harness.device.statistics.readingsAcked)
        }
        // Every reading before the end, on the grid from the device's phase, and none after it.
        let origin = harness.device.originMs
        let expected = (endMs - origin + 999) / 1_000
        #expect(readings == Int(expected) * 4)
        #expect(harness.log.suffix(2) == [.disconnect, .finished])
    }

    @Test func anIdleDisconnectIsNoErrorAndTheDeviceReconnectsWhenItHasABatch() {
        var harness = DeviceHarness(makeDevice(protocol: .rest))
        harness.send(.start)
        harness.send(.connected)
        #expect(harness.send(.disconnected(.connectionClosed)).isEmpty)
        #expect(harness.device.statistics.errors.total == 0)
        let actions = harness.advance(to: harness.closeTime(ofBatch: 1))
        #expect(actions.first == .connect)
        #expect(harness.send(.connected).compactMap(\.batchSeq) == [1])
        #expect(harness.device.statistics.connections == 2)
    }

    @Test func staleEventsChangeNothing() {
        var harness = DeviceHarness(makeDevice())
        #expect(harness.send(.connected).isEmpty)  // before start
        harness.send(.start)
        harness.send(.connected)
        let before = harness.device.statistics
        harness.send(.acked(Ack(batches: 1), covering: 1...1, latencyNs: 5))  // no call in flight
        harness.send(.callFailed(.grpcStatus(14)))
        harness.send(.connected)
        #expect(harness.device.statistics == before)
        #expect(harness.device.retryAtNs == nil)
    }

    @Test func anEarlyTickAsksForTheSameWakeAgain() {
        var harness = DeviceHarness(makeDevice())
        harness.send(.start)
        let due = harness.wake!
        harness.now = due - 1
        #expect(harness.send(.tick) == [.scheduleWake(atNs: due)])
        // A wake that is already asked for is not asked for twice.
        #expect(harness.send(.connected).isEmpty)
    }

    @Test func aUnaryDeviceAtMaxRateProducesTheNextBatchOnTheAck() {
        let settings = makeSettings(clock: .maxRate(start: testStartMs))
        var harness = DeviceHarness(makeDevice(protocol: .grpcUnary, settings: settings))
        harness.send(.start)
        #expect(harness.send(.connected).compactMap(\.batchSeq) == [1])
        for seq in 2...20 {
            #expect(harness.ack().compactMap(\.batchSeq) == [UInt64(seq)])
        }
        #expect(harness.device.statistics.batchesGenerated == 20)
        #expect(harness.device.queue.count == 1)  // only the batch in flight: nothing is produced ahead
        #expect(harness.log.allSatisfy { !$0.isWake })
    }
}
