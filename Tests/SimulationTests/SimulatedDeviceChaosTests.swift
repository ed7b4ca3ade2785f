import SplitMix
import Telemetry
import Testing

@testable import Simulation

/// The device against a seeded, unreliable fake network: whatever happens, the buffer stays bounded, every batch
/// is accounted for exactly once, and a healthy network at the end drains everything.
@Suite struct SimulatedDeviceChaosTests {
    /// What the fake network does next.
    enum Pending {
        case connect(at: UInt64)
        case answer(at: UInt64)
    }

    @Test(arguments: DeviceProtocol.allCases, [1, 2, 3] as [UInt64])
    func everyBatchIsAccountedForExactlyOnce(deviceProtocol: DeviceProtocol, seed: UInt64) {
        let settings = makeSettings(
            streamBatches: 4, bufferCapacity: 8,
            backoff: BackoffPolicy(initialNs: 50_000_000, maxNs: 2_000_000_000))
        var harness = DeviceHarness(makeDevice(protocol: deviceProtocol, seed: seed, settings: settings))
        var random = SplitMix64(seed: seed &* 1_000_003)
        var pending: Pending?
        var stored: Set<UInt64> = []
        var releasedByCalls = 0
        var readingsReported: Int64 = 0
        var callSeqs: [UInt64] = []
        let finishAt = seconds(600)
        var isFinishing = false

        func perform(_ actions: [DeviceAction]) {
            for action in actions {
                switch action {
                case .connect: pending = .connect(at: harness.now + 1_000_000 + random.next() % 4_000_000)
                case .openUploadStream, .openSyncStream: callSeqs = []
                case .sendOnStream(let batch): callSeqs.append(batch.seq)
                case .push(let batch): callSeqs = [batch.seq]
                case .post(let batch): callSeqs = [batch.seq]
                default: break
                }
                if action.requestSeqs != nil || action == .halfCloseSyncStream {
                    pending = .answer(at: harness.now + random.next() % 30_000_000)
                }
                if action == .disconnect { pending = nil }
            }
        }

        perform(harness.send(.start))
        var steps = 0
        while !harness.isFinished && steps < 100_000 {
            steps += 1
            let healthy = isFinishing
            var next = harness.wake ?? .max
            switch pending {
            case .connect(let at), .answer(let at): next = min(next, at)
            case nil: break
            }
            if !isFinishing && finishAt <= next {
                harness.now = finishAt
                isFinishing = true
                perform(harness.send(.finish))
                continue
            }
            guard next != .max else { break }
            if let wake = harness.wake, wake == next {
                harness.now = next
                harness.wake = nil
                perform(harness.send(.tick))
                continue
            }
            harness.now = next
            // Between 200 s and 400 s the collector is down: long enough to fill the buffer.
            let isDown = harness.now >= seconds(200) && harness.now < seconds(400)
            let roll = isDown ? 0.99 : random.nextUnit()
            switch pending {
            case .connect:
                pending = nil
                perform(
                    harness.send(!healthy && (roll < 0.2 || isDown) ? .connectFailed(.connectionRefused) : .connected))
            case .answer:
                pending = nil
                let request = harness.request!
                harness.request = nil
                if healthy || roll < 0.8 {
                    let fresh = callSeqs.filter { !stored.contains($0) }
                    stored.formUnion(callSeqs)
                    releasedByCalls += callSeqs.count
                    readingsReported += Int64(fresh.count * 40)
                    let ack = Ack(
                        batches: UInt64(callSeqs.count), readings: UInt64(fresh.count * 40),
                        duplicateBatches: UInt64(callSeqs.count - fresh.count), lastSeq: stored.max()!)
                    if deviceProtocol == .grpcSync {
                        perform(harness.send(.streamAcked(ack, latenciesNs: callSeqs.map { _ in 1 })))
                        perform(harness.send(.streamEnded))
                    } else {
                        perform(harness.send(.acked(ack, covering: request.seqs, latencyNs: 1)))
                    }
                } else if roll < 0.87 {
                    perform(harness.send(.callFailed(.grpcStatus(14))))
                } else if roll < 0.9 {
                    perform(harness.send(.callFailed(.httpStatus(400))))
                } else {
                    // Sometimes the collector stored the batches before the connection broke.
                    if roll < 0.95 { stored.formUnion(callSeqs) }
                    perform(harness.send(.disconnected(.connectionReset)))
                }
            case nil:
                break
            }
            let queue = harness.device.queue
            #expect(queue.count <= settings.bufferCapacity + settings.streamBatches)
            #expect(queue.batches.map(\.seq) == queue.batches.map(\.seq).sorted())
        }
        #expect(harness.isFinished, "the device did not finish in \(steps) steps")
        let stats = harness.device.statistics
        #expect(stats.batchesGenerated == stats.batchesAcked + stats.batchesDropped + Int64(harness.device.queue.count))
        #expect(stats.readingsGenerated == stats.readingsAcked + stats.readingsDropped)
        #expect(Int(stats.batchesAcked) == releasedByCalls)
        #expect(stats.batchesSent - stats.batchesRetried <= stats.batchesGenerated)
        #expect(stats.readingsStored == readingsReported && stats.readingsStored <= stats.readingsAcked)
        #expect(stats.batchesGenerated > 50)
        #expect(stats.errors.total > 0 && stats.batchesRetried > 0 && stats.batchesDroppedFull > 0)
    }
}
