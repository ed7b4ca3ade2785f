import Telemetry
import Testing

import Storage
@testable import Store

@Suite struct WriteQueueTests {
    static func request(_ batch: ReadingBatch, device: String = "d") -> WriteRequest {
        .batch(deviceID: device, batch: batch, readingCount: batch.readingCount, queuedNs: 0, completion: { _ in }, prepared: [])
    }

    static func batch(seq: UInt64, readings: Int) -> ReadingBatch {
        makeBatch(seq: seq, [("x", (0..<readings).map { (Int64($0), 0) })])
    }

    @Test func readingBoundRefusesABatchThatWouldPassIt() throws {
        let queue = WriteQueue(maxBatches: 100, maxReadings: 10)
        try queue.enqueue(Self.request(Self.batch(seq: 1, readings: 8)))
        #expect(throws: StoreError.overloaded(queuedBatches: 1)) {
            try queue.enqueue(Self.request(Self.batch(seq: 2, readings: 3)))
        }
        try queue.enqueue(Self.request(Self.batch(seq: 3, readings: 2)))
        #expect(queue.depth == (2, 10))
    }

    @Test func batchBoundRefusesTheBatchBeyondIt() throws {
        let queue = WriteQueue(maxBatches: 2, maxReadings: 1_000)
        try queue.enqueue(Self.request(Self.batch(seq: 1, readings: 1)))
        try queue.enqueue(Self.request(Self.batch(seq: 2, readings: 1)))
        #expect(throws: StoreError.overloaded(queuedBatches: 2)) {
            try queue.enqueue(Self.request(Self.batch(seq: 3, readings: 1)))
        }
        // Taking one out makes room again.
        _ = queue.takeIfAvailable()
        try queue.enqueue(Self.request(Self.batch(seq: 3, readings: 1)))
    }

    @Test func anEmptyQueueTakesABatchLargerThanTheReadingBound() throws {
        let queue = WriteQueue(maxBatches: 100, maxReadings: 4)
        try queue.enqueue(Self.request(Self.batch(seq: 1, readings: 8)))
        #expect(queue.depth == (1, 8))
    }

    @Test func counterFlushesSkipTheBoundsButNotClose() throws {
        let queue = WriteQueue(maxBatches: 1, maxReadings: 1)
        try queue.enqueue(Self.request(Self.batch(seq: 1, readings: 1)))
        try queue.enqueue(.counters(deltas: [], atMs: 0, completion: nil))
        try queue.enqueue(.counters(deltas: [], atMs: 1, completion: nil))
        #expect(queue.depth == (1, 1), "counter flushes are not counted as queued batches")
        queue.close()
        #expect(throws: StoreError.closed) { try queue.enqueue(.counters(deltas: [], atMs: 2, completion: nil)) }
        #expect(throws: StoreError.closed) { try queue.enqueue(Self.request(Self.batch(seq: 2, readings: 1))) }
    }

    @Test func requestsComeOutInOrderAndClosingEndsTheWaitAfterTheLastOne() throws {
        let queue = WriteQueue(maxBatches: 5_000, maxReadings: 1_000_000)
        for seq in 1...3_000 {
            try queue.enqueue(Self.request(Self.batch(seq: UInt64(seq), readings: 1)))
        }
        queue.close()
        var seqs: [UInt64] = []
        while let request = queue.waitForNext() {
            guard case .batch(_, let batch, _, _, _, _) = request else { continue }
            seqs.append(batch.seq)
        }
        #expect(seqs == Array(1...3_000))
        #expect(queue.depth == (0, 0))
    }
}
