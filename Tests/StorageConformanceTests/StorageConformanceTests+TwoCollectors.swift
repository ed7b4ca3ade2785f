// Two collectors sharing one database (StorageBackend.sharingADatabase: PostgreSQL): the same rules as one,
// whichever collector a batch reaches. Exactly once per (device, seq) across both, first committed write wins per
// (device, sensor, ts), counters of both summed.

import SplitMix
import Storage
import Telemetry
import Testing

/// Why the two-collector tests have no case to run: SQLite cannot share a file, and PostgreSQL cannot run here.
let sharingSkipReason = Comment(
    rawValue: "two collectors share a database only on PostgreSQL (one collector owns a SQLite file), and "
        + (StorageBackend.postgres.unavailableReason ?? "PostgreSQL runs"))

extension StorageConformanceTests {
    /// One after another, so the model knows which write came first.
    @Test(
        .enabled(if: !StorageBackend.sharingADatabase.isEmpty, sharingSkipReason),
        arguments: StorageBackend.sharingADatabase)
    func twoCollectorsInTurnKeepEveryRule(_ backend: StorageBackend) async throws {
        let first = try open(backend, collectorName: "c1")
        defer { first.remove() }
        let second = try open(backend, sameDatabaseAs: first, collectorName: "c2")
        defer { second.remove() }
        var model = StorageModel()
        let steps: [(OpenedStorage, String, ReadingBatch)] = [
            (first, "d", makeBatch(seq: 1, exponent: -1, [("x", [(10, 1), (20, 1), (30, 1)])])),
            (second, "d", makeBatch(seq: 2, exponent: -2, [("x", [(20, 2), (25, 2), (40, 2)])])),
            (first, "d", makeBatch(seq: 2, [("x", [(50, 3)])])),  // stored through the other collector
            (second, "d", makeBatch(seq: 1, [("x", [(60, 4)])])),
            (second, "d", makeBatch(seq: 3, [("x", [(5, 5), (15, 5), (30, 5), (45, 5)]), ("y", [(1, 5)])])),
            (first, "d", makeBatch(seq: 4, [("y", [(1, 6), (2, 6)]), ("x", [(5, 6), (6, 6)])])),
            (first, "e", makeBatch(seq: 2, [("x", [(20, 7)])])),
        ]
        for (index, (opened, device, batch)) in steps.enumerated() {
            let expected = model.apply(deviceID: device, batch: batch).outcome
            let outcome = try await opened.store(deviceID: device, batch: batch)
            #expect(outcome == expected, "step \(index)")
        }
        try expectStorage(first.storage, equals: model, "read by c1:")
        try expectStorage(second.storage, equals: model, "read by c2:")
        try await first.settle()
        try await second.settle()
        let late = makeBatch(seq: 9, [("x", [(0, 9), (10, 9), (35, 9)])])
        let expected = model.apply(deviceID: "d", batch: late).outcome
        let outcome = try await second.store(deviceID: "d", batch: late)
        #expect(outcome == expected)
        try expectStorage(first.storage, equals: model, "settled, read by c1:")
        try expectStorage(second.storage, equals: model, "settled, read by c2:")
    }

    /// Both at once: batches of the same devices split between the two, a third of them sent to both, readings
    /// overlapping across batches. Which write commits first is up to the race, so the check is what any order
    /// must give: each (device, seq) stored by exactly one collector, each (device, sensor, ts) stored once with the
    /// value of a batch that holds it, and each batch's `readingsStored` equal to the readings that carry its values.
    @Test(
        .enabled(if: !StorageBackend.sharingADatabase.isEmpty, sharingSkipReason),
        arguments: StorageBackend.sharingADatabase)
    func twoCollectorsAtOnceStoreEachBatchAndReadingOnce(_ backend: StorageBackend) async throws {
        let first = try open(backend, collectorName: "c1")
        defer { first.remove() }
        let second = try open(backend, sameDatabaseAs: first, collectorName: "c2")
        defer { second.remove() }
        var random = SplitMix64(seed: 0x2C011)
        let devices = ["m", "n"]
        let seqCount: UInt64 = 90
        // Value = seq × 1000 + the reading's index in its batch: a stored value names the batch that stored it.
        var batches: [String: [UInt64: ReadingBatch]] = [:]
        for device in devices {
            for seq in 1...seqCount {
                var entries: [(String, [(Int64, Double)])] = []
                var index = 0
                for sensor in ["s", "t"] where sensor == "s" || Bool.random(using: &random) {
                    let base = Int64.random(in: 0...2_000, using: &random)
                    let readings = (0..<Int.random(in: 1...25, using: &random)).map { _ -> (Int64, Double) in
                        defer { index += 1 }
                        return (base + Int64.random(in: 0...60, using: &random), Double(seq * 1_000) + Double(index))
                    }
                    entries.append((sensor, readings))
                }
                batches[device, default: [:]][seq] = makeBatch(seq: seq, entries)
            }
        }
        let results = Collected<(collector: String, device: String, seq: UInt64, Result<BatchOutcome, StoreError>)>()
        var submitted = 0
        for seq in 1...seqCount {
            for device in devices {
                let batch = batches[device]![seq]!
                let targets: [OpenedStorage] =
                    switch seq % 3 {
                    case 0: seq % 2 == 0 ? [first, second] : [second, first]
                    case 1: [first]
                    default: [second]
                    }
                for target in targets {
                    let name = target === first ? "c1" : "c2"
                    try target.storage.submit(deviceID: device, batch: batch) {
                        results.append((name, device, seq, $0))
                    }
                    submitted += 1
                }
            }
        }
        try await waitUntil(timeoutMs: 60_000, "every completion ran") { results.all.count == submitted }

        var storedBy: [String: [UInt64: BatchOutcome]] = [:]
        for (collector, device, seq, result) in results.all {
            guard case .success(let outcome) = result else {
                Issue.record("\(collector) \(device)#\(seq): \(result)")
                continue
            }
            #expect(outcome.lastSeq >= seq, "\(collector) \(device)#\(seq): lastSeq \(outcome.lastSeq)")
            guard !outcome.isDuplicate else { continue }
            #expect(storedBy[device]?[seq] == nil, "\(device)#\(seq) stored by both collectors")
            storedBy[device, default: [:]][seq] = outcome
        }
        for device in devices {
            #expect(storedBy[device]?.count == Int(seqCount), "\(device): every seq stored exactly once")
            try Self.expectFirstWrites(
                of: batches[device]!, storedBy: storedBy[device] ?? [:], device: device, readBy: [first, second])
        }
    }

    /// Both collectors create the same devices and series at once: for each device, batch A (seq 1, exponent -1,
    /// ts 0...9) through one and batch B (seq 2, exponent -2, ts 5...14) through the other, A also through both for
    /// every fourth device. Whichever batch commits first stores all five shared readings and declares the series'
    /// exponent; the other stores its five others.
    @Test(
        .enabled(if: !StorageBackend.sharingADatabase.isEmpty, sharingSkipReason),
        arguments: StorageBackend.sharingADatabase)
    func twoCollectorsCreatingTheSameSeriesAtOnce(_ backend: StorageBackend) async throws {
        let first = try open(backend, collectorName: "c1")
        defer { first.remove() }
        let second = try open(backend, sameDatabaseAs: first, collectorName: "c2")
        defer { second.remove() }
        let deviceCount = 100
        let batchA = makeBatch(seq: 1, exponent: -1, [("a", (0..<10).map { (Int64($0), 1_000 + Double($0)) })])
        let batchB = makeBatch(seq: 2, exponent: -2, [("a", (5..<15).map { (Int64($0), 2_000 + Double($0)) })])
        let results = Collected<(device: String, seq: UInt64, Result<BatchOutcome, StoreError>)>()
        var submitted = 0
        for index in 0..<deviceCount {
            let device = "new-\(index)"
            var sends: [(OpenedStorage, ReadingBatch)] =
                index % 2 == 0 ? [(first, batchA), (second, batchB)] : [(second, batchB), (first, batchA)]
            if index % 4 == 0 { sends.append((second, batchA)) }
            for (target, batch) in sends {
                try target.storage.submit(deviceID: device, batch: batch) { results.append((device, batch.seq, $0)) }
                submitted += 1
            }
        }
        try await waitUntil(timeoutMs: 60_000, "every completion ran") { results.all.count == submitted }
        var stored: [String: [UInt64: Int]] = [:]
        for (device, seq, result) in results.all {
            guard case .success(let outcome) = result else {
                Issue.record("\(device)#\(seq): \(result)")
                continue
            }
            if !outcome.isDuplicate {
                #expect(stored[device]?[seq] == nil, "\(device)#\(seq) stored twice")
                stored[device, default: [:]][seq] = outcome.readingsStored
            }
        }
        for index in 0..<deviceCount {
            let device = "new-\(index)"
            let read = try allPages(first.storage, deviceID: device)
            #expect(read.map(\.ts) == Array(0..<15), "\(device): the union of both batches")
            let shared = read.filter { (5..<10).contains($0.ts) }
            let winner: UInt64? =
                shared.allSatisfy { $0.value >= 2_000 } ? 2 : shared.allSatisfy { $0.value < 2_000 } ? 1 : nil
            guard let winner else {
                Issue.record("\(device): the shared readings come from both batches: \(shared.map(\.value))")
                continue
            }
            #expect(stored[device] == [winner: 10, 3 - winner: 5], "\(device): readingsStored, batch \(winner) first")
            let latest = try first.storage.latest(deviceID: device)
            #expect(
                latest.map(\.exponent) == [winner == 1 ? -1 : -2],
                "\(device): the exponent of the batch that created the series (\(winner))")
            let summary = try second.storage.device(device)
            #expect(summary?.batches == 2 && summary?.readings == 15 && summary?.lastSeq == 2, "\(device)")
        }
    }

    /// Compaction by one collector while the other merges late readings into the same series and the first keeps
    /// appending: no write of either may be lost or changed by the other's rewrite of a chunk.
    @Test(
        .enabled(if: !StorageBackend.sharingADatabase.isEmpty, sharingSkipReason),
        arguments: StorageBackend.sharingADatabase)
    func compactionByOneCollectorLosesNoneOfTheOthersWrites(_ backend: StorageBackend) async throws {
        let first = try open(backend, collectorName: "c1")
        defer { first.remove() }
        let second = try open(backend, sameDatabaseAs: first, collectorName: "c2")
        defer { second.remove() }
        var random = SplitMix64(seed: 0xC0A7)
        let start: Int64 = 1_700_000_000_000
        // Value = seq × 1000 + index, as above. Seqs 1...200: in order, a reading a second (many small chunks);
        // 1001...1200: late, half a second off (new) or on a whole second (stored already); 2001...2100: in order
        // after the end.
        var batches: [UInt64: ReadingBatch] = [:]
        for seq: UInt64 in 1...200 {
            let base = start + Int64(seq - 1) * 10_000
            batches[seq] = makeBatch(
                seq: seq, [("s", (0..<10).map { (base + Int64($0) * 1_000, Double(seq * 1_000) + Double($0)) })])
        }
        for seq: UInt64 in 1_001...1_200 {
            let readings = (0..<12).map { index -> (Int64, Double) in
                let second = Int64.random(in: 0..<2_000, using: &random)
                let offset: Int64 = Bool.random(using: &random) ? 500 : 0
                return (start + second * 1_000 + offset, Double(seq * 1_000) + Double(index))
            }
            batches[seq] = makeBatch(seq: seq, [("s", readings)])
        }
        for seq: UInt64 in 2_001...2_100 {
            let base = start + 2_000_000 + Int64(seq - 2_001) * 10_000
            batches[seq] = makeBatch(
                seq: seq, [("s", (0..<10).map { (base + Int64($0) * 1_000, Double(seq * 1_000) + Double($0)) })])
        }
        var storedBy: [UInt64: BatchOutcome] = [:]
        for seq: UInt64 in 1...200 {
            storedBy[seq] = try await first.store(deviceID: "d", batch: batches[seq]!)
        }
        let frozen = batches
        async let compactions: Void = {
            for _ in 0..<6 { try await first.settle() }
        }()
        async let late = { () async throws -> [(UInt64, BatchOutcome)] in
            var outcomes: [(UInt64, BatchOutcome)] = []
            for seq: UInt64 in 1_001...1_200 {
                outcomes.append((seq, try await second.store(deviceID: "d", batch: frozen[seq]!)))
            }
            return outcomes
        }()
        async let appended = { () async throws -> [(UInt64, BatchOutcome)] in
            var outcomes: [(UInt64, BatchOutcome)] = []
            for seq: UInt64 in 2_001...2_100 {
                outcomes.append((seq, try await first.store(deviceID: "d", batch: frozen[seq]!)))
            }
            return outcomes
        }()
        try await compactions
        for (seq, outcome) in try await late + appended { storedBy[seq] = outcome }
        #expect(storedBy.values.allSatisfy { !$0.isDuplicate })
        try Self.expectFirstWrites(of: batches, storedBy: storedBy, device: "d", readBy: [first, second])
        try await second.settle()
        try Self.expectFirstWrites(of: batches, storedBy: storedBy, device: "d", readBy: [first, second])
    }

    /// Expects `device` to hold each (sensor, ts) of `batches` exactly once, with the value a batch wrote first
    /// for it (value = seq × 1000 + index names the batch and the reading), each stored batch's `readingsStored`
    /// equal to the readings carrying its values, and the device's summary to match: read through every store.
    static func expectFirstWrites(
        of batches: [UInt64: ReadingBatch], storedBy: [UInt64: BatchOutcome], device: String,
        readBy stores: [OpenedStorage], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        // Which (sensor, ts) exist: the union of every stored batch; the values depend on the commit order.
        var keys: [String: Set<Int64>] = [:]
        for (seq, batch) in batches where storedBy[seq] != nil {
            for entry in batch.sensors { keys[entry.sensor, default: []].formUnion(entry.timestamps) }
        }
        let distinct = keys.values.reduce(0) { $0 + $1.count }
        let counted = storedBy.values.reduce(0) { $0 + $1.readingsStored }
        #expect(
            counted == distinct, "\(device): readingsStored summed over the batches", sourceLocation: sourceLocation)
        for opened in stores {
            let read = try allPages(opened.storage, deviceID: device)
            #expect(read.count == distinct, "\(device): readings stored", sourceLocation: sourceLocation)
            #expect(
                Dictionary(grouping: read, by: \.sensor).mapValues { Set($0.map(\.ts)) } == keys,
                "\(device): the stored (sensor, ts)s", sourceLocation: sourceLocation)
            var perBatch: [UInt64: Int] = [:]
            var strays = 0
            for reading in read {
                let seq = UInt64(reading.value / 1_000)
                let index = Int(reading.value) % 1_000
                let batchReadings = batches[seq]?.readings ?? []
                let origin = index < batchReadings.count ? batchReadings[index] : nil
                let isFirstInBatch =
                    batchReadings.firstIndex { $0.sensor == reading.sensor && $0.ts == reading.ts } == index
                if origin != reading || !isFirstInBatch {
                    strays += 1
                    if strays <= 5 {
                        Issue.record(
                            "\(device) \(reading.sensor)@\(reading.ts) = \(reading.value) is no batch's first write",
                            sourceLocation: sourceLocation)
                    }
                }
                perBatch[seq, default: 0] += 1
            }
            #expect(strays == 0, "\(device): readings no batch wrote first", sourceLocation: sourceLocation)
            let miscounted = storedBy.keys.sorted().filter { perBatch[$0, default: 0] != storedBy[$0]!.readingsStored }
            let described = miscounted.prefix(10).map {
                "#\($0): readingsStored \(storedBy[$0]!.readingsStored), stored \(perBatch[$0, default: 0])"
            }
            #expect(
                miscounted.isEmpty, "\(device): batches whose readingsStored differs: \(described)",
                sourceLocation: sourceLocation)
            let summary = try opened.storage.device(device)
            #expect(summary?.readings == Int64(distinct), "\(device): summary readings", sourceLocation: sourceLocation)
            #expect(
                summary?.batches == Int64(storedBy.count), "\(device): summary batches", sourceLocation: sourceLocation)
            #expect(
                summary?.lastSeq == storedBy.keys.max() && summary?.sensors == keys.keys.sorted(),
                sourceLocation: sourceLocation)
        }
    }

    @Test(
        .enabled(if: !StorageBackend.sharingADatabase.isEmpty, sharingSkipReason),
        arguments: StorageBackend.sharingADatabase)
    func countersOfTwoCollectorsAreSummed(_ backend: StorageBackend) async throws {
        let first = try open(backend, collectorName: "c1")
        defer { first.remove() }
        let second = try open(backend, sameDatabaseAs: first, collectorName: "c2")
        defer { second.remove() }
        let base = first.storage.historyBucketMs
        #expect(second.storage.historyBucketMs == base)
        let additions: [(opened: OpenedStorage, atMs: Int64, delta: CounterDelta)] = [
            (first, 1_000, Self.countingDelta("grpc", "d1", scale: 1)),
            (second, 2_000, Self.countingDelta("grpc", "d1", scale: 10)),
            (second, 3_000, Self.countingDelta("grpc", "", scale: 2)),
            (first, base + 4_000, Self.countingDelta("http1", "d2", scale: 3)),
            (second, base + 5_000, Self.countingDelta("http1", "d2", scale: 5)),
            (first, 2 * base + 6_000, Self.countingDelta("grpc", "d1", scale: 100)),
        ]
        for addition in additions {
            try await addition.opened.addCounters([addition.delta], atMs: addition.atMs)
        }
        let plain = additions.map { (atMs: $0.atMs, delta: $0.delta) }
        let firstOnly = additions.filter { $0.opened === first }.map { (atMs: $0.atMs, delta: $0.delta) }
        let secondOnly = additions.filter { $0.opened === second }.map { (atMs: $0.atMs, delta: $0.delta) }
        #expect(first.storage.sharedCollectorName == "c1" && second.storage.sharedCollectorName == "c2")
        for opened in [first, second] {
            #expect(try opened.storage.counters() == Self.expectedTotals(plain))
            #expect(try opened.storage.counters(collector: "c1") == Self.expectedTotals(firstOnly))
            #expect(try opened.storage.counters(collector: "c2") == Self.expectedTotals(secondOnly))
            #expect(try opened.storage.counters(collector: "c3") == [])
            #expect(try opened.storage.counterCollectors() == ["c1", "c2"])
            for stepMs in [base, 2 * base] {
                #expect(
                    try opened.storage.counterHistory(stepMs: stepMs, fromMs: nil, toMs: nil)
                        == Self.expectedHistory(plain, baseMs: base, stepMs: stepMs, fromMs: nil, toMs: nil))
            }
        }
    }
}
