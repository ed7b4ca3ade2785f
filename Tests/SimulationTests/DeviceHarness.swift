import Telemetry

@testable import Simulation

/// A stand-in for the event-loop driver: performs a device's actions the way the contract in DeviceAction.swift
/// says (one wake at a time, the request-completing action's seqs echoed in the Ack) and lets a test decide what the
/// network answers.
struct DeviceHarness {
    var device: SimulatedDevice
    /// Real monotonic time, ns.
    var now: UInt64 = 0
    /// The pending wake, if any.
    var wake: UInt64?
    /// Every action the device asked for, in order.
    var log: [DeviceAction] = []
    /// The request awaiting an answer: what it covers and when it completed.
    var request: (seqs: ClosedRange<UInt64>, sentAt: UInt64)?
    /// Seqs sent on the open stream, for checking the half-close.
    var streamSeqs: [UInt64] = []
    /// The Sync stream in flight was half-closed (its remaining Acks and the OK end are due).
    var isSyncHalfClosed = false
    /// True once the device said `.finished`.
    var isFinished = false

    init(_ device: SimulatedDevice) {
        self.device = device
    }

    /// Feeds one event now and performs the actions.
    @discardableResult
    mutating func send(_ event: DeviceEvent) -> [DeviceAction] {
        let actions = device.handle(event, at: now)
        for action in actions { perform(action) }
        log += actions
        return actions
    }

    private mutating func perform(_ action: DeviceAction) {
        switch action {
        case .scheduleWake(let at): wake = at
        case .openUploadStream, .openSyncStream: streamSeqs = []
        case .halfCloseSyncStream:
            isSyncHalfClosed = true
            // The Acks still due cover what the stream carried (this harness answers them all at the end).
            if let first = streamSeqs.first, let last = streamSeqs.last { request = (first...last, now) }
        case .sendOnStream(let batch): streamSeqs.append(batch.seq)
        case .halfCloseStream, .push, .post: request = (action.requestSeqs!, now)
        case .disconnect: request = nil
        case .finished: isFinished = true
        case .connect: break
        }
    }

    /// Moves real time to `time`, delivering every wake that falls due on the way; returns the actions.
    @discardableResult
    mutating func advance(to time: UInt64) -> [DeviceAction] {
        var actions: [DeviceAction] = []
        while let due = wake, due <= time {
            now = max(now, due)
            wake = nil
            actions += send(.tick)
        }
        now = max(now, time)
        return actions
    }

    /// Answers the request in flight with an Ack that stored everything it covers.
    @discardableResult
    mutating func ack(duplicates: UInt64 = 0) -> [DeviceAction] {
        let (seqs, sentAt) = request!
        request = nil
        let count = seqs.upperBound - seqs.lowerBound + 1
        if device.deviceProtocol == .grpcSync {
            let ack = Ack(batches: count, readings: 0, duplicateBatches: duplicates, lastSeq: seqs.upperBound)
            return send(.streamAcked(ack, latenciesNs: Array(repeating: now - sentAt, count: Int(count))))
                + send(.streamEnded)
        }
        return send(
            .acked(
                Ack(batches: count, readings: 0, duplicateBatches: duplicates, lastSeq: seqs.upperBound),
                covering: seqs, latencyNs: now - sentAt))
    }

    /// The real time at which batch `seq` closes under a paced clock.
    func closeTime(ofBatch seq: Int64) -> UInt64 {
        device.settings.clock.realNs(atSimulated: device.originMs + seq * device.settings.batchMs)
    }

    /// Seqs of every batch the device put on the wire, in order.
    var sentSeqs: [UInt64] {
        log.compactMap {
            switch $0 {
            case .sendOnStream(let batch), .push(let batch): batch.seq
            case .post(let batch): batch.seq
            default: nil
            }
        }
    }
}

extension DeviceAction {
    /// The seq of a batch-carrying action; nil for the others.
    var batchSeq: UInt64? {
        switch self {
        case .sendOnStream(let batch), .push(let batch): batch.seq
        case .post(let batch): batch.seq
        default: nil
        }
    }

    /// True for `.scheduleWake`.
    var isWake: Bool {
        if case .scheduleWake = self { return true }
        return false
    }
}
