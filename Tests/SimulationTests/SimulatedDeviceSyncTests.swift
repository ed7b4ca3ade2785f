import Telemetry
import Testing

@testable import Simulation

/// The device state machine over a gRPC Sync stream: each Ack releases the oldest batches as it arrives, the stream
/// closes after its window and ends OK, and a failure re-sends only what no Ack covered.
@Suite struct SimulatedDeviceSyncTests {
    static func syncHarness(streamBatches: Int = 3) -> DeviceHarness {
        var harness = DeviceHarness(makeDevice(protocol: .grpcSync, settings: makeSettings(streamBatches: streamBatches)))
        harness.send(.start)
        harness.send(.connected)
        return harness
    }

    static func ack(_ seqs: ClosedRange<UInt64>) -> Ack {
        Ack(batches: UInt64(seqs.count), readings: UInt64(seqs.count * 40), duplicateBatches: 0, lastSeq: seqs.upperBound)
    }

    @Test func acksReleaseBatchesWhileTheStreamStaysOpen() {
        var harness = Self.syncHarness()
        let first = harness.advance(to: harness.closeTime(ofBatch: 1))
        #expect(first.first == .openSyncStream)
        #expect(first.dropFirst().first?.batchSeq == 1)
        // The Ack for batch 1 arrives before batch 2 is even produced: released at once, the stream stays open.
        #expect(harness.send(.streamAcked(Self.ack(1...1), latenciesNs: [3_000_000])).isEmpty)
        #expect(harness.device.statistics.batchesAcked == 1)
        #expect(harness.device.queue.count == 0)
        #expect(harness.device.call == .streaming(sent: 1))
        let second = harness.advance(to: harness.closeTime(ofBatch: 2))
        #expect(second.first?.batchSeq == 2, "sent on the same stream, no new call")
        let third = harness.advance(to: harness.closeTime(ofBatch: 3))
        #expect(third.first?.batchSeq == 3)
        #expect(third.contains(.halfCloseSyncStream))
        #expect(harness.device.call == .awaitingAnswer)
        // One Ack covers batches 2 and 3 (they committed together); then the stream ends OK.
        harness.send(.streamAcked(Self.ack(2...3), latenciesNs: [2_000_000, 1_000_000]))
        #expect(harness.device.statistics.batchesAcked == 3)
        #expect(harness.device.statistics.readingsStored == 120)
        #expect(harness.device.statistics.latency.count == 3, "one latency per batch")
        harness.send(.streamEnded)
        #expect(harness.device.call == .idle)
        #expect(harness.device.statistics.calls == 1)
        let fourth = harness.advance(to: harness.closeTime(ofBatch: 4))
        #expect(fourth.first == .openSyncStream, "the next window opens a new stream")
    }

    @Test func aFailureResendsOnlyWhatNoAckCovered() {
        var harness = Self.syncHarness()
        harness.advance(to: harness.closeTime(ofBatch: 3))
        #expect(harness.isSyncHalfClosed)
        harness.send(.streamAcked(Self.ack(1...1), latenciesNs: [1]))
        // The stream breaks with UNAVAILABLE: 2 and 3 go again, first, on a new stream after the backoff.
        harness.send(.callFailed(.grpcStatus(14)))
        #expect(harness.device.queue.batches.map(\.seq) == [2, 3])
        #expect(harness.device.queue.inFlight == 0)
        let retry = harness.advance(to: harness.device.retryAtNs! + 1)
        #expect(retry.first == .openSyncStream)
        #expect(retry.dropFirst().prefix(2).map(\.batchSeq) == [2, 3])
        #expect(harness.device.statistics.batchesRetried == 2)
    }

    @Test func anEmptyWindowEndsTheStreamWithoutAnAck() {
        var harness = Self.syncHarness(streamBatches: 2)
        harness.advance(to: harness.closeTime(ofBatch: 1))
        harness.send(.streamAcked(Self.ack(1...1), latenciesNs: [1]))
        harness.send(.finish)  // production over while nothing waits: the device half-closes the open stream
        #expect(harness.device.call == .awaitingAnswer)
        harness.send(.streamEnded)
        #expect(harness.isFinished)
        #expect(harness.device.statistics.batchesAcked == 1)
    }
}
