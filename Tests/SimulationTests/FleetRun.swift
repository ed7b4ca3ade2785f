import Telemetry

@testable import Simulation

/// A whole fleet run against a perfect in-memory collector: the shape of an event-loop driver without sockets.
///
/// Each device's events are independent, so devices run one after the other, each on its own timeline: connects
/// succeed after 1 ms, every request is acknowledged after a latency that depends on the protocol, and the "wire"
/// counts payload bytes plus a fixed per-message overhead, as a real driver would count socket bytes.
struct FleetRun {
    /// Per-request answer latency by protocol, ns.
    static let latencyNs: [DeviceProtocol: UInt64] = [.grpcStream: 4_000_000, .grpcUnary: 2_000_000, .rest: 3_000_000,
                                                           .grpcSync: 1_000_000, .grpcWeb: 2_500_000,
                                                           .grpcWebText: 2_600_000, .connect: 2_200_000]

    var fleet: DeviceFleet
    /// What the collector stored: (device, seq) pairs.
    var stored: Set<String> = []

    init(configuration: FleetConfiguration) {
        fleet = DeviceFleet(configuration: configuration, indices: 0..<configuration.deviceCount)
    }

    /// Runs every device until it finishes (the settings need a duration).
    mutating func run() {
        for slot in fleet.devices.indices { runDevice(slot) }
    }

    private mutating func runDevice(_ slot: Int) {
        let deviceProtocol = fleet.devices[slot].deviceProtocol
        let deviceID = fleet.devices[slot].deviceID
        var now: UInt64 = 0
        var wake: UInt64?
        var connectAt: UInt64?
        var answer: (at: UInt64, seqs: ClosedRange<UInt64>, sentAt: UInt64, batches: [(seq: UInt64, readings: Int)])?
        var callBatches: [(seq: UInt64, readings: Int)] = []
        var queue: [DeviceEvent] = [.start]
        var finished = false
        while !finished {
            if queue.isEmpty {
                // The next thing to happen: a wake, the connect completing, or the answer arriving.
                let next = [wake, connectAt, answer?.at].compactMap { $0 }.min()!
                now = max(now, next)
                if connectAt == next {
                    connectAt = nil
                    queue.append(.connected)
                } else if let pending = answer, pending.at == next {
                    answer = nil
                    var fresh = 0
                    var readings = 0
                    for batch in pending.batches where stored.insert("\(deviceID)/\(batch.seq)").inserted {
                        fresh += 1
                        readings += batch.readings
                    }
                    let ack = Ack(
                        batches: UInt64(pending.batches.count), readings: UInt64(readings),
                        duplicateBatches: UInt64(pending.batches.count - fresh), lastSeq: pending.seqs.upperBound)
                    fleet.recordWireBytes(slot: slot, sent: 0, received: ack.protobufSize + 50)
                    queue.append(.acked(ack, covering: pending.seqs, latencyNs: now - pending.sentAt))
                } else {
                    wake = nil
                    queue.append(.tick)
                }
            }
            let event = queue.removeFirst()
            for action in fleet.handle(event, slot: slot, at: now) {
                switch action {
                case .connect:
                    connectAt = now + 1_000_000
                    fleet.recordWireBytes(slot: slot, sent: 24, received: 9)
                case .scheduleWake(let at): wake = at
                case .openUploadStream, .openSyncStream:
                    callBatches = []
                    fleet.recordWireBytes(slot: slot, sent: 60, received: 0)
                case .sendOnStream(let batch) where deviceProtocol == .grpcSync:
                    // Sync: stored and acknowledged at once, on the open stream.
                    let fresh = stored.insert("\(deviceID)/\(batch.seq)").inserted
                    let ack = Ack(batches: 1, readings: fresh ? UInt64(batch.readingCount) : 0,
                                  duplicateBatches: fresh ? 0 : 1, lastSeq: batch.seq)
                    fleet.recordWireBytes(slot: slot, sent: batch.protobufSize + 14, received: ack.protobufSize + 14)
                    queue.append(.streamAcked(ack, latenciesNs: [Self.latencyNs[.grpcSync]!]))
                case .halfCloseSyncStream:
                    fleet.recordWireBytes(slot: slot, sent: 9, received: 0)
                    queue.append(.streamEnded)
                case .sendOnStream(let batch):
                    callBatches.append((batch.seq, batch.readingCount))
                    fleet.recordWireBytes(slot: slot, sent: batch.protobufSize + 14, received: 0)
                case .push(let batch):
                    callBatches = [(batch.seq, batch.readingCount)]
                    fleet.recordWireBytes(slot: slot, sent: batch.protobufSize + 74, received: 0)
                case .post(let batch):
                    callBatches = [(batch.seq, batch.readingCount)]
                    fleet.recordWireBytes(slot: slot, sent: batch.jsonBytes().count + 120, received: 0)
                case .halfCloseStream:
                    fleet.recordWireBytes(slot: slot, sent: 9, received: 0)
                case .disconnect: connectAt = nil
                case .finished: finished = true
                }
                if let seqs = action.requestSeqs {
                    answer = (now + Self.latencyNs[deviceProtocol]!, seqs, now, callBatches)
                }
            }
        }
    }
}
