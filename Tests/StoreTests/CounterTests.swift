import Foundation
import Testing

import Storage
@testable import Store

@Suite struct CounterTests {
    @Test func deltasAddUpPerProtocolAndDeviceAndPersistAcrossReopen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        do {
            let store = try TelemetryStore(path: path)
            try await store.addCounters(
                [
                    CounterDelta(
                        protocolName: "grpc", device: "d1", bytesIn: 100, bytesOut: 10, readings: 5, batches: 1),
                    CounterDelta(protocolName: "grpc", bytesIn: 7, headerBytesIn: 3, connections: 1),
                ], atMs: 10_000)
            try await store.addCounters(
                [
                    CounterDelta(
                        protocolName: "grpc", device: "d1", bytesIn: 50, bytesOut: 5, headerBytesIn: 1,
                        headerBytesOut: 2,
                        framingBytesIn: 3, framingBytesOut: 4, payloadBytesIn: 5, payloadBytesOut: 6,
                        tlsHandshakeBytesIn: 13, tlsHandshakeBytesOut: 14, tlsRecordBytesIn: 15,
                        tlsRecordBytesOut: 16, readings: 7, batches: 8, duplicateBatches: 9, calls: 10, connections: 11,
                        errors: 12, segmentsIn: 17, segmentsOut: 18),
                    CounterDelta(protocolName: "http1", device: "d2", bytesIn: 1),
                ], atMs: 25_000)
            store.close()
        }
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        let rows = try store.counters()
        #expect(rows.map { "\($0.totals.protocolName)/\($0.totals.device)" } == ["grpc/", "grpc/d1", "http1/d2"])
        #expect(
            rows[1]
                == CounterRow(
                    totals: CounterDelta(
                        protocolName: "grpc", device: "d1", bytesIn: 150, bytesOut: 15, headerBytesIn: 1,
                        headerBytesOut: 2, framingBytesIn: 3, framingBytesOut: 4, payloadBytesIn: 5, payloadBytesOut: 6,
                        tlsHandshakeBytesIn: 13, tlsHandshakeBytesOut: 14, tlsRecordBytesIn: 15, tlsRecordBytesOut: 16,
                        readings: 12, batches: 9, duplicateBatches: 9, calls: 10, connections: 11, errors: 12,
                        segmentsIn: 17, segmentsOut: 18),
                    updatedMs: 25_000))
        #expect(rows[0].totals == CounterDelta(protocolName: "grpc", bytesIn: 7, headerBytesIn: 3, connections: 1))
        #expect(rows[0].updatedMs == 10_000)
        // Later additions after the reopen keep adding to the persisted rows.
        try await store.addCounters([CounterDelta(protocolName: "http1", device: "d2", bytesIn: 2)], atMs: 30_000)
        #expect(try store.counters().last?.totals.bytesIn == 3)
        try await store.addCounters(
            [CounterDelta(protocolName: "grpc", device: "d1", tlsRecordBytesOut: 4, segmentsOut: 2)], atMs: 31_000)
        let grown = try store.counters()[1].totals
        #expect(grown.tlsRecordBytesOut == 20 && grown.segmentsOut == 20 && grown.segmentsIn == 17)
    }

    @Test func amountsRoundTripInColumnOrder() {
        let amounts = (1...UInt64(CounterDelta.amountCount)).map { $0 * 3 }
        let delta = CounterDelta(protocolName: "p", device: "d", amounts: amounts)
        #expect(delta.amounts == amounts)
        #expect(delta.tlsHandshakeBytesIn == 27 && delta.tlsRecordBytesOut == 36)
        #expect(delta.segmentsIn == 57 && delta.segmentsOut == 60)
    }

    @Test func historyFallsInBaseBucketsAndSumsIntoSteps() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        // Base bucket 10 s: 0…9999 → 0, 10000 → 10000, −1 → −10000.
        let additions: [(Int64, String, UInt64)] = [
            (0, "grpc", 1), (9_999, "grpc", 2), (10_000, "grpc", 4), (-1, "grpc", 8), (59_999, "http1", 16),
            (60_000, "grpc", 32),
        ]
        for (atMs, protocolName, bytes) in additions {
            try await store.addCounters(
                [
                    CounterDelta(
                        protocolName: protocolName, device: "d", bytesIn: bytes, bytesOut: bytes * 2, readings: 1)
                ],
                atMs: atMs)
        }
        // A delta without bytes or readings adds no history row.
        try await store.addCounters([CounterDelta(protocolName: "grpc", connections: 1)], atMs: 90_000)
        let base = try store.counterHistory(stepMs: 10_000)
        #expect(
            base.map { "\($0.startMs) \($0.protocolName) \($0.bytesIn)" } == [
                "-10000 grpc 8", "0 grpc 3", "10000 grpc 4", "50000 http1 16", "60000 grpc 32",
            ])
        let minutes = try store.counterHistory(stepMs: 60_000)
        #expect(
            minutes == [
                HistoryBucket(startMs: -60_000, protocolName: "grpc", bytesIn: 8, bytesOut: 16, readings: 1),
                HistoryBucket(startMs: 0, protocolName: "grpc", bytesIn: 7, bytesOut: 14, readings: 3),
                HistoryBucket(startMs: 0, protocolName: "http1", bytesIn: 16, bytesOut: 32, readings: 1),
                HistoryBucket(startMs: 60_000, protocolName: "grpc", bytesIn: 32, bytesOut: 64, readings: 1),
            ])
        // [fromMs, toMs) selects base buckets by their start.
        #expect(try store.counterHistory(stepMs: 10_000, fromMs: 0, toMs: 10_000).map(\.bytesIn) == [3])
        #expect(try store.counterHistory(stepMs: 10_000, fromMs: 1, toMs: 60_000).map(\.bytesIn) == [4, 16])
    }

    @Test(arguments: [Int64(0), -10_000, 15_000, 5_000])
    func historyStepMustBeAPositiveMultipleOfTheBaseBucket(stepMs: Int64) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        defer { store.close() }
        #expect {
            try store.counterHistory(stepMs: stepMs)
        } throws: { error in
            guard case .invalidArgument(let text) = error as? StoreError else { return false }
            return text.contains("stepMs")
        }
    }

    @Test func counterFlushesAreAcceptedWhenTheBatchQueueIsFull() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path, configuration: StoreConfiguration(maxQueuedBatches: 1))
        let flushed = ResultCollector<Bool>()
        var sawOverload = false
        var seq: UInt64 = 0
        while !sawOverload && seq < 10_000 {
            seq += 1
            do throws(StoreError) {
                try store.submit(deviceID: "d", batch: makeBatch(seq: seq, [("x", [(Int64(seq), 1)])])) { _ in }
            } catch {
                sawOverload = true
                // The batch queue is full right now; a counter flush still goes in.
                try store.addCounters([CounterDelta(protocolName: "grpc", bytesIn: 1)], atMs: 0) { result in
                    flushed.append((try? result.get()) != nil)
                }
            }
        }
        store.close()
        #expect(sawOverload)
        #expect(flushed.values == [true])
        #expect(try RawConnection(path: path).integer("SELECT bytes_in FROM bandwidth") == 1)
    }
}
