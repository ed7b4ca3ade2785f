// A device's bounded buffer of batches, oldest first, with the batches of the call in flight as its prefix.
//
// Invariants:
// - Batches are in seq order, and batches are sent from the front, so the batches of the call in flight are always
//   the first `inFlight` entries. Re-sending after a failure is therefore just `inFlight = 0`: the same batches,
//   same seqs, go out again first (at-least-once; the collector deduplicates by seq).
// - At most `capacity` batches wait (are not in flight) once `append` returns: when a new batch would exceed it, the
//   oldest waiting batches are dropped and handed back to be counted. With a call window of w batches, a device
//   never holds more than `capacity + w` batches, whatever the network does.

/// The bounded batch buffer; see above.
public struct BatchQueue: Equatable, Sendable {
    /// Most batches that may wait to be sent.
    public let capacity: Int
    /// The buffered batches, oldest first.
    public private(set) var batches: [PendingBatch] = []
    /// How many of the first batches are on the call in flight.
    public private(set) var inFlight = 0

    /// An empty buffer holding at most `capacity` waiting batches (at least one).
    public init(capacity: Int) {
        precondition(capacity >= 1, "a buffer needs room for at least one batch")
        self.capacity = capacity
    }

    /// Buffered batches, in flight or waiting.
    public var count: Int { batches.count }
    /// Batches not yet on a call.
    public var waitingCount: Int { batches.count - inFlight }
    /// True when nothing is buffered.
    public var isEmpty: Bool { batches.isEmpty }
    /// True when some batch waits to be sent.
    public var hasWaiting: Bool { inFlight < batches.count }
    /// The seqs of the batches on the call in flight, lowest to highest; nil when none is.
    public var inFlightSeqs: ClosedRange<UInt64>? {
        inFlight == 0 ? nil : batches[0].seq...batches[inFlight - 1].seq
    }

    /// Adds a batch at the end; returns the oldest waiting batches it pushed out of a full buffer.
    public mutating func append(_ batch: PendingBatch) -> [PendingBatch] {
        var dropped: [PendingBatch] = []
        while waitingCount >= capacity {
            dropped.append(batches.remove(at: inFlight))
        }
        batches.append(batch)
        return dropped
    }

    /// Puts the oldest waiting batch on the call in flight and returns it (with its transmission counted).
    public mutating func sendNext() -> PendingBatch? {
        guard hasWaiting else { return nil }
        batches[inFlight].transmissions += 1
        inFlight += 1
        return batches[inFlight - 1]
    }

    /// The call in flight was acknowledged for the batches with seq in `seqs`: removes those batches and returns
    /// them. Batches of the call that the acknowledgement does not cover wait again, to be re-sent.
    public mutating func release(covering seqs: ClosedRange<UInt64>) -> [PendingBatch] {
        var released: [PendingBatch] = []
        var kept: [PendingBatch] = []
        for batch in batches[..<inFlight] {
            if seqs.contains(batch.seq) { released.append(batch) } else { kept.append(batch) }
        }
        batches.replaceSubrange(..<inFlight, with: kept)
        inFlight = 0
        return released
    }

    /// The oldest `count` batches in flight were acknowledged (a Sync stream's Ack): removes and returns them; the
    /// rest stay in flight.
    public mutating func releaseOldest(_ count: Int) -> [PendingBatch] {
        let taken = Swift.min(Swift.max(count, 0), inFlight)
        defer {
            batches.removeFirst(taken)
            inFlight -= taken
        }
        return Array(batches[..<taken])
    }

    /// The call in flight failed and may be retried: its batches wait again, in the same order, at the front.
    public mutating func requeueInFlight() {
        inFlight = 0
    }

    /// The call in flight failed for good: removes its batches and returns them.
    public mutating func dropInFlight() -> [PendingBatch] {
        defer {
            batches.removeFirst(inFlight)
            inFlight = 0
        }
        return Array(batches[..<inFlight])
    }
}
