import SplitMix
import Testing
import Telemetry

/// Stream context: what the encoder leaves out, the resolver puts back exactly; what breaks the rules is refused
/// with an error naming the series; outside a stream (`Batch(protobuf:)`) context is refused.
@Suite struct StreamContextTests {
    /// A device's consecutive 10 s batches of its four sensors (1 Hz), continuing in time and value.
    static func deviceStream(batches: Int, firstSeq: UInt64 = 1, rng: inout SplitMix64) -> [Batch] {
        let sensors: [(String, Int32, Int64)] = [("temperature", -2, 2150), ("humidity", -1, 455),
                                                 ("pressure", -1, 10132), ("battery", -3, 3700)]
        var mantissas = sensors.map(\.2)
        var result: [Batch] = []
        for b in 0..<batches {
            let start: Int64 = 1_765_000_000_000 + Int64(b) * 10_000
            var series: [Series] = []
            for (i, sensor) in sensors.enumerated() {
                var deltas: [Int64] = []
                for r in 0..<10 {
                    let step = Int64.random(in: -3...3, using: &rng)
                    deltas.append(r == 0 ? mantissas[i] + step : step)
                    mantissas[i] += step
                }
                series.append(Series(sensor: sensor.0, exponent: sensor.1, startMs: start, intervalMs: 1_000,
                                     mantissaDeltas: deltas))
            }
            result.append(Batch(seq: firstSeq + UInt64(b), series: series))
        }
        return result
    }

    private static func roundTrip(_ batches: [Batch]) throws -> (decoded: [Batch], bytes: [Int]) {
        var encoder = StreamContextEncoder()
        var context = StreamContext()
        var decoded: [Batch] = []
        var sizes: [Int] = []
        for batch in batches {
            let bytes = encoder.encode(batch).protobufBytes()
            sizes.append(bytes.count)
            decoded.append(try context.decode(bytes))
        }
        return (decoded, sizes)
    }

    @Test func continuingStreamResolvesExactlyAndDropsTheMetadata() throws {
        var rng = SplitMix64(seed: 7)
        let batches = Self.deviceStream(batches: 60, rng: &rng)
        let (decoded, sizes) = try Self.roundTrip(batches)
        #expect(decoded == batches)
        #expect(sizes[0] == batches[0].protobufSize)  // the first batch says everything
        for (batch, size) in zip(batches.dropFirst(), sizes.dropFirst()) {
            // Per series only its framing and the ten deltas remain: no name, exponent, start, interval or seq.
            #expect(size < batch.protobufSize / 2)
            #expect(size <= 4 * (2 + 2 + 10))
        }
        var encoder = StreamContextEncoder()
        _ = encoder.encode(batches[0])
        let second = encoder.encode(batches[1])
        #expect(second.seq == 0)
        #expect(second.series.allSatisfy { $0.sensor.isEmpty && $0.ref == 0 && $0.startMs == 0 && $0.intervalMs == 0 })
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func randomBatchesRoundTripThroughTheContext(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var batches: [Batch] = []
        var seq = UInt64.random(in: 1...1_000, using: &rng)
        for _ in 0..<300 {
            var batch: Batch
            if let previous = batches.last, Bool.random(using: &rng) {
                // Continue some series of the previous batch in time, shuffled, sometimes with a new exponent.
                batch = previous
                batch.series.shuffle(using: &rng)
                for i in batch.series.indices where batch.series[i].count > 0 {
                    let series = batch.series[i]
                    let end = series.intervalMs > 0
                        ? series.startMs + Int64(series.count - 1) * Int64(series.intervalMs)
                        : series.timeDeltasMs.reduce(series.startMs) { $0 + Int64($1) }
                    batch.series[i].startMs = end + Int64(max(series.intervalMs, 1))
                    if Int.random(in: 0..<10, using: &rng) == 0 { batch.series[i].exponent += 1 }
                }
            } else {
                batch = RandomBatches.batch(&rng)
            }
            seq += UInt64.random(in: 1...2, using: &rng)
            batch.seq = seq
            batches.append(batch)
        }
        #expect(try Self.roundTrip(batches).decoded == batches)
    }

    @Test func aRetryOnANewStreamStartsAFreshContext() throws {
        var rng = SplitMix64(seed: 3)
        let batches = Self.deviceStream(batches: 3, rng: &rng)
        var encoder = StreamContextEncoder()
        _ = encoder.encode(batches[0])
        let continued = encoder.encode(batches[1]).protobufBytes()
        // The same bytes on a new stream refer to entries the new stream never defined.
        var fresh = StreamContext()
        #expect(throws: DecodeError(.seqMustBePositive, path: "seq", offset: continued.count)) {
            _ = try fresh.decode(continued)
        }
        var withSeq = encoder.encode(batches[2])
        withSeq.seq = 3
        let bytes = withSeq.protobufBytes()
        #expect(throws: DecodeError(.unknownStreamEntry(number: 1, defined: 0), path: "series[0]",
                                    offset: bytes.count)) {
            _ = try fresh.decode(bytes)
        }
    }

    @Test func brokenRulesAreRefusedNamingTheSeries() throws {
        let first = Batch(seq: 5, series: [
            Series(sensor: "temp", exponent: -1, startMs: 1_000, intervalMs: 1_000, mantissaDeltas: [10, 1]),
            Series(sensor: "gust", exponent: 0, startMs: 1_000, intervalMs: 0, mantissaDeltas: [1, 2],
                   timeDeltasMs: [700]),
        ])
        func decodeSecond(_ second: Batch) throws -> Batch {
            var context = StreamContext()
            _ = try context.resolve(first)
            let bytes = second.protobufBytes()
            return try context.decode(bytes)
        }
        let continued = Series(sensor: "", exponent: 0, startMs: 0, intervalMs: 0, mantissaDeltas: [1])
        // series[0] continues temp: 11 + 1 at 2,000 + 1,000.
        let resolved = try decodeSecond(Batch(seq: 0, series: [continued]))
        #expect(resolved == Batch(seq: 6, series: [
            Series(sensor: "temp", exponent: -1, startMs: 3_000, intervalMs: 1_000, mantissaDeltas: [12])]))
        var third = continued
        third.ref = 3
        let refThree = Batch(seq: 0, series: [third])
        #expect(throws: DecodeError(.unknownStreamEntry(number: 3, defined: 2), path: "series[0].ref",
                                    offset: refThree.protobufSize)) { _ = try decodeSecond(refThree) }
        var explicitStart = continued
        explicitStart.startMs = 9_000
        explicitStart.timeDeltasMs = []
        let positional = Batch(seq: 0, series: [continued, explicitStart, explicitStart])
        #expect(throws: DecodeError(.unknownStreamEntry(number: 3, defined: 2), path: "series[2]",
                                    offset: positional.protobufSize)) { _ = try decodeSecond(positional) }
        var gust = continued
        gust.ref = 2
        let gustBatch = Batch(seq: 0, series: [gust])
        #expect(throws: DecodeError(.startNotContinuable(number: 2), path: "series[0].start_ms",
                                    offset: gustBatch.protobufSize)) { _ = try decodeSecond(gustBatch) }
        var withExponent = continued
        withExponent.exponent = -2
        let exponentBatch = Batch(seq: 0, series: [withExponent])
        #expect(throws: DecodeError(.exponentOnContinuation, path: "series[0].exponent",
                                    offset: exponentBatch.protobufSize)) { _ = try decodeSecond(exponentBatch) }
        var named = first.series[0]
        named.ref = 1
        let namedBytes = Batch(seq: 9, series: [named]).protobufBytes()
        var context = StreamContext()
        #expect(throws: DecodeError.self) {
            _ = try context.decode(namedBytes)
        }
    }

    @Test func outsideAStreamContextIsRefused() throws {
        let ref = Batch(seq: 1, series: [Series(sensor: "", exponent: 0, startMs: 0, intervalMs: 0,
                                                mantissaDeltas: [1], ref: 1)]).protobufBytes()
        #expect(throws: DecodeError(.streamContextOutsideStream, path: "series[0].ref", offset: 9)) {
            _ = try Batch(protobuf: ref)
        }
        let positional = Batch(seq: 1, series: [Series(sensor: "", exponent: 0, startMs: 5, intervalMs: 0,
                                                       mantissaDeltas: [1])]).protobufBytes()
        #expect(throws: DecodeError(.invalidSensorName, path: "series[0].sensor", offset: positional.count)) {
            _ = try Batch(protobuf: positional)
        }
        #expect(throws: DecodeError(.seqMustBePositive, path: "seq", offset: 0)) { _ = try Batch(protobuf: [UInt8]()) }
    }

    @Test func aStreamDefinesAtMostItsLimitOfSensors() throws {
        var context = StreamContext(maxEntries: 2)
        let series = ["a", "b", "c"].map {
            Series(sensor: $0, exponent: 0, startMs: 1, intervalMs: 0, mantissaDeltas: [1])
        }
        _ = try context.resolve(Batch(seq: 1, series: Array(series.prefix(2))))
        _ = try context.resolve(Batch(seq: 2, series: Array(series.prefix(2))))  // redefining is no new entry
        #expect(throws: DecodeError(.tooManyStreamEntries(limit: 2), path: "series[0].sensor", offset: 0)) {
            _ = try context.resolve(Batch(seq: 3, series: [series[2]]))
        }
    }
}
