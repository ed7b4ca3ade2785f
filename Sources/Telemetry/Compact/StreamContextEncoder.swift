// The device's half of stream context (rules in StreamContext.swift): each batch of a stream is rewritten to
// leave out what the stream already said, and the collector's `StreamContext.resolve` gives back exactly the batch
// the device made. A series is continued only when that round trip is exact; otherwise it is sent in full (which
// redefines its entry), so the encoder never has to be cleverer than the rules.

/// Rewrites the batches of one Upload or Sync stream with stream context; one per stream (a new stream, including
/// a retry after a broken one, starts with a new encoder, because the collector's context is per stream).
public struct StreamContextEncoder: Sendable {
    private var context: StreamContext

    /// An encoder for a new stream.
    public init(maxEntries: Int = DecodeLimits.standard.maxSeriesPerBatch) {
        context = StreamContext(maxEntries: maxEntries)
    }

    /// `batch` (valid, plain) with stream context: seq 0 when it follows the previous batch, series that continue
    /// an entry without their sensor (and without `ref` when the position says it), exponent, interval, start and
    /// with their first mantissa as a delta.
    public mutating func encode(_ batch: Batch) -> Batch {
        var encoded = batch
        if let previous = context.previousSeq, previous < Batch.maxSeq, batch.seq == previous + 1 { encoded.seq = 0 }
        for (index, series) in batch.series.enumerated() {
            if let compact = continuation(of: series, position: index) { encoded.series[index] = compact }
            // A valid batch's series always records; a failure would only mean the caller broke the contract.
            try? context.record(series, path: "series[\(index)]", offset: 0)
        }
        context.recordSeq(batch.seq)
        return encoded
    }

    /// The continuing form of `series` at `position`, when its entry exists and the form resolves to it exactly.
    private func continuation(of series: Series, position: Int) -> Series? {
        guard series.count > 0, let number = context.number(of: series.sensor), let entry = context.entry(number),
              entry.exponent == series.exponent, let last = entry.last
        else { return nil }
        var compact = series
        compact.sensor = ""
        compact.exponent = 0
        compact.ref = number == position + 1 ? 0 : UInt32(number)
        if series.intervalMs == 0 {
            // Irregular: time deltas carry the spacing; a lone reading would take the entry's interval instead.
            guard !series.timeDeltasMs.isEmpty || entry.intervalMs == 0 else { return nil }
        } else if series.intervalMs == entry.intervalMs {
            compact.intervalMs = 0
        }
        let next = last.ts.addingReportingOverflow(Int64(series.intervalMs))
        if series.intervalMs > 0, !next.overflow, next.partialValue == series.startMs {
            compact.startMs = 0
        } else if series.startMs == 0 {
            return nil  // time 0 itself cannot be stated in the continuing form
        }
        let (first, overflow) = series.mantissaDeltas[0].subtractingReportingOverflow(last.mantissa)
        guard !overflow else { return nil }
        compact.mantissaDeltas[0] = first
        return compact
    }
}
