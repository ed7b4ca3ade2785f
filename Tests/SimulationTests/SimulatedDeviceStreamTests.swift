import Telemetry
import Testing

@testable import Simulation

/// The device state machine over a gRPC Upload stream: windows, acks, reconnects.
@Suite struct SimulatedDeviceStreamTests {
    @Test func startConnectsAndAsksToWakeWhenTheFirstBatchCloses() {
        var harness = DeviceHarness(makeDevice())
        let actions = harness.send(.start)
        #expect(actions == [.connect, .scheduleWake(atNs: harness.closeTime(ofBatch: 1))])
        #expect(harness.send(.connected) == [])  // nothing to send yet; the wake stands
        #expect(harness.device.isConnected)
    }

    @Test func aWindowOfSixSendsSixBatchesThenHalfCloses() {
        var harness = DeviceHarness(makeDevice())
        harness.send(.start)
        harness.send(.connected)
        let first = harness.advance(to: harness.closeTime(ofBatch: 1))
        #expect(first.count == 3)
        #expect(first[0] == .openUploadStream)
        #expect(first[1].batchSeq == 1)
        #expect(first[2] == .scheduleWake(atNs: harness.closeTime(ofBatch: 2)))
        for seq in 2...5 {
            let actions = harness.advance(to: harness.closeTime(ofBatch: Int64(seq)))
            #expect(actions.map(\.batchSeq) == [UInt64(seq), nil])  // one send on the open stream, one wake
        }
        let sixth = harness.advance(to: harness.closeTime(ofBatch: 6))
        #expect(sixth.first?.batchSeq == 6)
        #expect(sixth.contains(.halfCloseStream(covering: 1...6)))
        #expect(harness.device.call == .awaitingAnswer)
        #expect(harness.streamSeqs == [1, 2, 3, 4, 5, 6])
        // Batch 7 closes before the Ack: it waits; only one call is in flight.
        let seventh = harness.advance(to: harness.closeTime(ofBatch: 7))
        #expect(seventh.allSatisfy { $0.isWake })
        #expect(harness.device.queue.count == 7 && harness.device.queue.waitingCount == 1)
        // The Ack releases 1…6 and the next stream opens at once with the waiting batch.
        let afterAck = harness.ack()
        #expect(afterAck.first == .openUploadStream)
        #expect(afterAck.dropFirst().first?.batchSeq == 7)
        #expect(harness.device.statistics.batchesAcked == 6)
        #expect(harness.device.statistics.readingsAcked == 6 * 4 * 10)
        #expect(harness.device.queue.inFlightSeqs == 7...7)
        #expect(harness.device.statistics.calls == 2)
    }

    @Test func anAckReleasesExactlyTheBatchesItCovers() {
        var harness = DeviceHarness(makeDevice(settings: makeSettings(streamBatches: 3)))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 3))
        #expect(harness.request?.seqs == 1...3)
        // An Ack that (wrongly) covers only 1…2: batch 3 stays and goes out again first on the next stream.
        harness.request = (1...2, harness.request!.sentAt)
        let actions = harness.ack()
        #expect(harness.device.statistics.batchesAcked == 2)
        #expect(actions.prefix(2) == [.openUploadStream, actions[1]])
        #expect(actions[1].batchSeq == 3)
        #expect(harness.device.statistics.batchesRetried == 1)
        #expect(harness.device.queue.batches.map(\.seq) == [3])
    }

    @Test func aDisconnectMidStreamResendsEveryUnacknowledgedBatchAfterABackoff() {
        var harness = DeviceHarness(makeDevice())
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 3))
        #expect(harness.streamSeqs == [1, 2, 3])
        let lostAt = harness.now
        let lost = harness.send(.disconnected(.connectionReset))
        // No reconnect yet: a wake at the end of the backoff (100 ms ceiling, up to half of it taken off by jitter).
        #expect(lost.count == 1)
        let retryAt = harness.device.retryAtNs!
        #expect(lost == [.scheduleWake(atNs: retryAt)])
        #expect(retryAt > lostAt + 50_000_000 && retryAt <= lostAt + 100_000_000)
        #expect(harness.device.statistics.errors[.reset] == 1)
        #expect(harness.device.queue.waitingCount == 3)
        // The wake reconnects; the connection re-sends 1, 2, 3 with the same seqs, on a new stream.
        #expect(harness.advance(to: retryAt).first == .connect)
        let resent = harness.send(.connected)
        #expect(resent.first == .openUploadStream)
        #expect(resent.compactMap(\.batchSeq) == [1, 2, 3])
        #expect(harness.device.statistics.batchesRetried == 3)
        #expect(harness.device.statistics.batchesSent == 6)
        // The stream continues with new batches up to its window of six, then half-closes.
        harness.advance(to: harness.closeTime(ofBatch: 6))
        #expect(harness.request?.seqs == 1...6)
        harness.ack(duplicates: 3)
        #expect(harness.device.statistics.batchesAcked == 6)
        #expect(harness.device.statistics.duplicateBatches == 3)
        #expect(harness.device.failureStreak == 0)
        #expect(harness.sentSeqs == [1, 2, 3, 1, 2, 3, 4, 5, 6])
    }

    @Test func backoffGrowsWithEveryFailureAndIsCapped() {
        let settings = makeSettings(backoff: BackoffPolicy(initialNs: 100_000_000, maxNs: 10_000_000_000))
        var harness = DeviceHarness(makeDevice(settings: settings))
        harness.send(.start)
        harness.advance(to: harness.closeTime(ofBatch: 1))  // a batch waits, so every retry reconnects
        var waits: [UInt64] = []
        for _ in 0..<12 {
            let failedAt = harness.now
            harness.send(.connectFailed(.connectionRefused))
            let retryAt = harness.device.retryAtNs!
            waits.append(retryAt - failedAt)
            // Batches keep closing during the backoff, but the device reconnects only when it is over.
            let actions = harness.advance(to: retryAt)
            #expect(actions.filter { $0 == .connect }.count == 1)
            #expect(harness.now == retryAt && harness.device.connection == .connecting)
        }
        let ceilings: [UInt64] = [1, 2, 4, 8, 16, 32, 64, 100, 100, 100, 100, 100].map { $0 * 100_000_000 }
        for (wait, ceiling) in zip(waits, ceilings) {
            #expect(wait > ceiling / 2 && wait <= ceiling, "wait \(wait) outside (\(ceiling / 2), \(ceiling)]")
        }
        #expect(harness.device.statistics.errors[.refused] == 12)
        #expect(harness.device.statistics.batchesSent == 0)
    }

    @Test func maxRateSendsAWindowAtOnceAndTheNextOnTheAck() {
        let settings = makeSettings(clock: .maxRate(start: testStartMs), streamBatches: 6)
        var harness = DeviceHarness(makeDevice(settings: settings))
        #expect(harness.send(.start) == [.connect])  // no wake: nothing waits for simulated time
        let window = harness.send(.connected)
        #expect(window.first == .openUploadStream)
        #expect(window.compactMap(\.batchSeq) == [1, 2, 3, 4, 5, 6])
        #expect(window.last == .halfCloseStream(covering: 1...6))
        let next = harness.ack()
        #expect(next.compactMap(\.batchSeq) == [7, 8, 9, 10, 11, 12])
        // Simulated time advanced one batch period per batch.
        guard case .sendOnStream(let seventh) = next[1] else {
            Issue.record("expected a batch")
            return
        }
        #expect(seventh.series[0].startMs == harness.device.originMs + 6 * settings.batchMs)
    }
}
