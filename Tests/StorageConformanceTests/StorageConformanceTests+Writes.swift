// Writes: exactly once per (device, seq), first write wins per (device, sensor, ts) wherever a late reading lands,
// batches out of order, negative times, a refused batch leaving no trace, the first declared exponent.

import SplitMix
import Storage
import Telemetry
import Testing

extension StorageConformanceTests {
    @Test(arguments: StorageBackend.available)
    func eachDeviceSeqIsStoredExactlyOnce(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let batch = makeBatch(seq: 7, [("temp", [(1, 1), (2, 2)]), ("rh", [(1, 40)])])
        let steps: [(String, ReadingBatch)] = [
            ("d", batch),
            ("d", batch),  // the retry: a duplicate
            ("d", makeBatch(seq: 7, [("temp", [(3, 3)]), ("other", [(3, 3)])])),  // same seq, other content
            ("d", makeBatch(seq: 3, [("temp", [(4, 4)])])),  // a lower seq never stored: stored, lastSeq stays
            ("d", makeBatch(seq: 3, [("temp", [(5, 5)])])),
            ("e", batch),  // the same seq of another device is another batch
            ("d", makeBatch(seq: 8, [])),  // an empty batch is a batch
            ("d", makeBatch(seq: 8, [("temp", [(6, 6)])])),
        ]
        for (index, (device, batch)) in steps.enumerated() {
            let expected = model.apply(deviceID: device, batch: batch).outcome
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expected, "step \(index): \(device) seq \(batch.seq)")
        }
        #expect(model.summary("d")?.batches == 3 && model.summary("d")?.lastSeq == 8)
        try expectStorage(opened.storage, equals: model)
        #expect(try opened.storage.devices(namePrefix: nil, limit: 10, after: nil).map(\.name) == ["d", "e"])
    }

    /// Batches queued behind a large one share a transaction (group commit): a seq twice in it, the same
    /// (sensor, ts) in several of its batches, a series created and extended in it. The rules are the same as one
    /// batch at a time, in submission order (one store's write queue is first in, first out).
    @Test(arguments: StorageBackend.available)
    func batchesSharingATransactionKeepTheRules(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        var random = SplitMix64(seed: 0x6C0)
        var submitted: [(String, ReadingBatch)] = [
            ("busy", makeBatch(seq: 1, [("x", (0..<50_000).map { (Int64($0), Double($0 % 1_000)) })]))
        ]
        for index in 0..<120 {
            let device = ["d", "e"][index % 2]
            let seq = UInt64.random(in: 1...40, using: &random)  // many seqs repeat
            let sensor = ["a", "b", "c"][Int.random(in: 0..<3, using: &random)]
            let base = Int64.random(in: -50...50, using: &random)
            let readings = (0..<Int.random(in: 1...8, using: &random)).map { offset in
                (base + Int64(offset) * Int64.random(in: 1...3, using: &random), Double(index * 10 + offset))
            }
            submitted.append((device, makeBatch(seq: seq, [(sensor, readings)])))
        }
        let results = Collected<(Int, Result<BatchOutcome, StoreError>)>()
        var expected: [BatchOutcome] = []
        for (index, (device, batch)) in submitted.enumerated() {
            expected.append(model.apply(deviceID: device, batch: batch).outcome)
            try opened.storage.submit(deviceID: device, batch: batch) { results.append((index, $0)) }
        }
        try await waitUntil(timeoutMs: 60_000, "every completion ran") { results.all.count == submitted.count }
        for (index, result) in results.all {
            let (device, batch) = submitted[index]
            #expect(try result.get() == expected[index], "#\(index): \(device) seq \(batch.seq)")
        }
        try expectStorage(opened.storage, equals: model)
    }

    @Test(arguments: StorageBackend.available)
    func firstWriteWinsWithinAndAcrossBatches(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let batches = [
            // Within one batch: the second reading at ts 100 is ignored, also when it comes in a second entry.
            makeBatch(seq: 1, [("temp", [(100, 1), (100, 2), (200, 3)]), ("temp", [(100, 4), (300, 5)])]),
            // Across batches: a stored reading never changes; the new ts is stored.
            makeBatch(seq: 2, [("temp", [(200, 30), (400, 6)])]),
            // Another sensor at the same ms is another series.
            makeBatch(seq: 3, [("rh", [(100, 9)])]),
            // Every reading already stored: not a duplicate, nothing stored.
            makeBatch(seq: 4, [("temp", [(100, -1), (400, -1)]), ("rh", [(100, -1)])]),
            // Zeros of both signs: the first one is kept, bit for bit.
            makeBatch(seq: 5, [("zero", [(1, -0.0), (1, 0.0)])]),
        ]
        for batch in batches {
            let expected = model.apply(deviceID: "d", batch: batch).outcome
            let outcome = try await opened.store(deviceID: "d", batch: batch)
            #expect(outcome == expected, "seq \(batch.seq)")
        }
        try expectStorage(opened.storage, equals: model)
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled:")
    }

    /// Late readings land before the first stored chunk, inside one, between two, and across both ends, also
    /// after the series was compacted; stored values never change and only the new readings are counted.
    @Test(arguments: StorageBackend.available)
    func lateReadingsAnywhereAreMergedFirstWriteWins(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        var seq: UInt64 = 0
        func put(_ readings: [(Int64, Double)]) async throws {
            seq += 1
            let batch = makeBatch(seq: seq, [("x", readings)])
            let expected = model.apply(deviceID: "d", batch: batch).outcome
            let outcome = try await opened.store(deviceID: "d", batch: batch)
            #expect(outcome == expected, "seq \(seq)")
        }
        try await put([(100, 1), (110, 1), (120, 1)])
        try await put([(200, 2), (210, 2)])
        // Inside the first chunk, repeating a stored ts with another value, and a repeat inside the batch.
        try await put([(105, 3), (110, 9), (105, 7), (115, 3)])
        // Across a gap, before everything, after everything, and on both chunks' edges.
        try await put([(150, 4), (50, 4), (300, 4), (120, 8), (200, 8), (160, 4)])
        try await put([(100, 5), (210, 5)])
        // Overlapping both ends of everything stored, every stored ts repeated.
        try await put((0...40).map { (Int64($0) * 10, 6) })
        try expectStorage(opened.storage, equals: model)
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled:")
        // The same after compaction: inside the settled chunk, before it, after it, and across it.
        try await put([(55, 7), (100, 7), (-10, 7), (999, 7), (425, 7)])
        try await put((-5...100).map { (Int64($0) * 5, 8) })
        try expectStorage(opened.storage, equals: model, "after settling:")
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled again:")
    }

    /// Random batches at random times, overlapping one another: every outcome and the stored readings equal the
    /// model, before and after settling.
    @Test(arguments: StorageBackend.available)
    func randomOverlappingBatchesEqualTheModel(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var random = SplitMix64(seed: 0xC4A7)
        var model = StorageModel()
        for seq in 1...200 {
            let base = Int64.random(in: -5_000...20_000, using: &random)
            var entries: [(String, [(Int64, Double)])] = []
            for sensor in ["s", "t"] where Bool.random(using: &random) || sensor == "s" {
                let count = Int.random(in: 1...40, using: &random)
                entries.append(
                    (
                        sensor,
                        (0..<count).map { _ in
                            (
                                base + Int64.random(in: 0...400, using: &random),
                                Double(Int.random(in: -999...999, using: &random)) / 10
                            )
                        }
                    ))
            }
            let device = seq % 3 == 0 ? "q" : "r"
            let batch = makeBatch(seq: UInt64(seq), entries)
            let expected = model.apply(deviceID: device, batch: batch).outcome
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expected, "batch \(seq)")
            if seq == 100 { try await opened.settle() }
        }
        try expectStorage(opened.storage, equals: model)
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled:")
    }

    /// Seq 5 before seq 3, times going backwards inside a batch and from batch to batch, negative times.
    @Test(arguments: StorageBackend.available)
    func outOfOrderBatchesAndNegativeTimes(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let batches: [ReadingBatch] = [
            makeBatch(seq: 5, [("t", [(5_000, 5), (4_000, 4), (4_500, 4.5)])]),
            makeBatch(seq: 3, [("t", [(3_000, 3), (-1, -1), (5_000, 9)])]),
            makeBatch(seq: 4, [("t", [(-1_000, -10), (-1_001, -10.01), (0, 0)]), ("u", [(-86_400_000, 1)])]),
            makeBatch(seq: 1, [("t", [(-3_000, -30), (-1_000, 99), (999, 9.99), (1_000, 10)])]),
            makeBatch(seq: 2, [("u", [(-86_400_001, 2), (-86_399_999, 3)])]),
            makeBatch(seq: 6, [("t", [(Int64.min / 4, -1e300), (Int64.max / 4, 1e300)])]),
        ]
        for batch in batches {
            let expected = model.apply(deviceID: "d", batch: batch).outcome
            let outcome = try await opened.store(deviceID: "d", batch: batch)
            #expect(outcome == expected, "seq \(batch.seq)")
        }
        #expect(model.lastSeq("d") == 6)
        try expectStorage(opened.storage, equals: model)
        let edges: [(Int64?, Int64?)] = [(nil, nil), (-1_000, 1_000), (-1_001, -1_000), (-1, 0), (nil, -1), (0, nil)]
        for (fromMs, toMs) in edges {
            for stepMs: Int64 in [1, 1_000, 86_400_000] {
                for aggregate in SeriesAggregate.allCases {
                    let expected = model.buckets(
                        deviceID: "d", sensor: "t", fromMs: fromMs, toMs: toMs, stepMs: stepMs, aggregate: aggregate)
                    let actual = try opened.storage.series(
                        deviceID: "d", sensor: "t", fromMs: fromMs, toMs: toMs, stepMs: stepMs, aggregate: aggregate)
                    #expect(actual == expected, "[\(fromMs as Any), \(toMs as Any)) step \(stepMs) \(aggregate)")
                }
            }
        }
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled:")
    }

    /// A batch holding NaN is refused with `.invalidArgument` and nothing of it is stored (not its new series, not
    /// its other readings, not its seq), while the batches queued around it commit; its retry without NaN stores.
    @Test(arguments: StorageBackend.available)
    func aBatchWithNaNIsRefusedAloneAndLeavesNoTrace(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let first = makeBatch(seq: 1, [("temp", [(10, 1), (20, 2)])])
        model.apply(deviceID: "d", batch: first)
        _ = try await opened.store(deviceID: "d", batch: first)
        // Submitted without waiting, so they may share a transaction: seq 5 (a new series, and NaN in the same
        // sensor's late readings, merged into the stored chunk), seq 7 (NaN in the new readings).
        let submitted: [(ReadingBatch, isRefused: Bool)] = [
            (makeBatch(seq: 4, [("temp", [(30, 3)])]), false),
            (makeBatch(seq: 5, [("new-sensor", [(1, 1)]), ("temp", [(15, 1), (12, .nan)])]), true),
            (makeBatch(seq: 6, [("temp", [(40, 4)])]), false),
            (makeBatch(seq: 7, [("temp", [(50, .nan), (60, 6)])]), true),
            (makeBatch(seq: 8, [("temp", [(15, 8)])]), false),
        ]
        let results = Collected<(UInt64, Result<BatchOutcome, StoreError>)>()
        var expected: [UInt64: BatchOutcome] = [:]
        for (batch, isRefused) in submitted {
            if !isRefused { expected[batch.seq] = model.apply(deviceID: "d", batch: batch).outcome }
            try opened.storage.submit(deviceID: "d", batch: batch) { results.append((batch.seq, $0)) }
        }
        try await waitUntil("every completion ran") { results.all.count == submitted.count }
        for (seq, result) in results.all {
            switch result {
            case .success(let outcome):
                #expect(outcome == expected[seq], "seq \(seq)")
            case .failure(.invalidArgument):
                #expect(expected[seq] == nil, "seq \(seq) failed")
            case .failure(let error):
                Issue.record("seq \(seq): expected .invalidArgument, got \(error)")
            }
        }
        try expectStorage(opened.storage, equals: model)
        #expect(try opened.storage.device("d")?.sensors == ["temp"], "the refused batch's new series is not stored")
        // The refused seqs were not stored: their retries without NaN are stored, not duplicates.
        for batch in [makeBatch(seq: 5, [("temp", [(12, 12)])]), makeBatch(seq: 7, [("temp", [(50, 5)])])] {
            let expected = model.apply(deviceID: "d", batch: batch).outcome
            let outcome = try await opened.store(deviceID: "d", batch: batch)
            #expect(outcome == expected, "retry of seq \(batch.seq)")
        }
        try expectStorage(opened.storage, equals: model, "after the retries:")
    }

    @Test(arguments: StorageBackend.available)
    func theFirstDeclaredExponentIsKept(_ backend: StorageBackend) async throws {
        let opened = try open(backend)
        defer { opened.remove() }
        var model = StorageModel()
        let steps: [(Int32?, Int32?)] = [(nil, nil), (-2, -2), (-1, -2), (nil, -2), (0, -2)]
        for (index, (declared, kept)) in steps.enumerated() {
            let batch = makeBatch(seq: UInt64(index + 1), exponent: declared, [("temp", [(Int64(index), 1)])])
            model.apply(deviceID: "d", batch: batch)
            _ = try await opened.store(deviceID: "d", batch: batch)
            #expect(
                try opened.storage.latest(deviceID: "d").first?.exponent == kept, "after declaring \(declared as Any)")
        }
        // Within one batch too: the first entry's exponent is the series'.
        let batch = ReadingBatch(
            seq: 10,
            sensors: [
                SensorReadings(sensor: "rh", exponent: -3, timestamps: [1], values: [1]),
                SensorReadings(sensor: "rh", exponent: -1, timestamps: [2], values: [2]),
            ])
        model.apply(deviceID: "d", batch: batch)
        _ = try await opened.store(deviceID: "d", batch: batch)
        try expectStorage(opened.storage, equals: model)
        try await opened.settle()
        try expectStorage(opened.storage, equals: model, "settled:")
    }
}
