// Structured followers for the stream round trip (StreamContextFuzzer.swift). Byte mutation seldom turns a
// decoded batch into the batch a device would send next, and the encoder's choices (continue a series or send it
// in full) depend on exactly how the two differ: a lone reading, a new interval or exponent, a start that is or
// is not the last reading + the interval, a first mantissa whose delta from the last one overflows, an empty
// series, a changed order, a sensor twice. So each input also derives a follower of a batch it decoded, every
// series changed in one of those ways (chosen by a hash of the input), and checks that the pair, rewritten by a
// new StreamContextEncoder, resolves to itself on a new stream.

/// Derives a valid follower of `batch` (a valid plain batch) and round-trips the pair through stream context.
func checkDerivedFollower(of batch: Batch, _ input: UnsafeRawBufferPointer) {
    var random = FuzzRandom(seededBy: input, salt: 0x464F_4C4C_4F57)
    let follower = derivedFollower(of: batch, &random)
    checkStreamRoundTrip([batch, follower], packingDeltas: false)
    checkStreamRoundTrip([batch, follower], packingDeltas: true)
}

/// A valid batch that could follow `batch` on a stream: same sensors, each series changed by one choice.
func derivedFollower(of batch: Batch, _ random: inout FuzzRandom) -> Batch {
    var series = batch.series.map { derivedSeries(after: $0, &random) }
    switch random.below(8) {
    case 0: series.reverse()  // positions no longer name the entries: ref
    case 1: if !series.isEmpty { series.removeFirst() }
    case 2:
        if let first = series.first, series.count < DecodeLimits.standard.maxSeriesPerBatch {
            series.append(derivedSeries(after: first, &random))  // the same sensor twice in one batch
        }
    default: break
    }
    let seq: UInt64
    switch random.below(6) {
    case 0: seq = batch.seq  // not the next: stated
    case 1: seq = batch.seq < Batch.maxSeq - 1 ? batch.seq + 2 : 1
    default: seq = batch.seq < Batch.maxSeq ? batch.seq + 1 : 1  // the next: left out
    }
    return Batch(seq: seq, series: series)
}

/// `series` changed in one way; `series` itself when the change would break a rule.
func derivedSeries(after series: Series, _ random: inout FuzzRandom) -> Series {
    var next = series
    let last = StreamContext.lastReading(of: series)
    let first = series.mantissaDeltas.first ?? 0
    let interval = series.intervalMs > 0 ? series.intervalMs : 1 + UInt32(random.below(2000))
    // Where a regular follower starts: right after the last reading (continuable) or somewhere else.
    let (after, overflow) = (last?.ts ?? series.startMs).addingReportingOverflow(Int64(interval))
    let start = overflow || random.below(4) == 0 ? Int64(bitPattern: random.next() >> UInt64(random.below(64))) : after
    switch random.below(9) {
    case 0:  // more of the same, continuing in time
        next.startMs = start
        next.intervalMs = interval
        next.timeDeltasMs = []
    case 1:  // a lone irregular reading (no interval, no gaps)
        next = Series(sensor: series.sensor, exponent: series.exponent, startMs: start, intervalMs: 0,
                      mantissaDeltas: [first &+ Int64(random.below(5)) &- 2])
    case 2:  // a lone regular reading
        next = Series(sensor: series.sensor, exponent: series.exponent, startMs: start, intervalMs: interval,
                      mantissaDeltas: [first])
    case 3:  // irregular: n−1 gaps
        next.startMs = start
        next.intervalMs = 0
        next.timeDeltasMs = series.mantissaDeltas.dropFirst().map { _ in UInt32(random.below(3000)) }
    case 4:  // a new interval
        next.startMs = start
        next.intervalMs = interval &+ 1 == 0 ? 1 : interval &+ 1
        next.timeDeltasMs = []
    case 5:  // a new exponent: the sensor is named again
        next.exponent = series.exponent == Series.exponentRange.upperBound ? series.exponent - 1 : series.exponent + 1
    case 6:  // no readings
        next = Series(sensor: series.sensor, exponent: series.exponent, startMs: start, intervalMs: interval,
                      mantissaDeltas: [])
    case 7:  // time 0, which the continuing form cannot state
        next.startMs = 0
    default:  // a first mantissa far from the last one (its delta may overflow)
        if !next.mantissaDeltas.isEmpty {
            next.mantissaDeltas = [random.below(2) == 0 ? .max : .min] + Array(repeating: 0, count: series.count - 1)
        }
    }
    return (try? next.validate()) == nil ? series : next
}
