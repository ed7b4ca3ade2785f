// Stream context (schema/telemetry/v1/telemetry.proto, `Series` and `Batch.seq`): on an Upload or Sync stream a
// batch may leave out what an earlier batch of the same stream already said.
//
// Rules, applied series by series in stream order:
// - A series that names its sensor defines that sensor's entry, or redefines it; entries are numbered 1, 2, … in
//   the order sensors are first named on the stream. An entry remembers the exponent, the interval and the last
//   reading's time and mantissa (both forgotten when a definition carries no reading).
// - A series without a sensor continues entry `ref`, or, when `ref` is 0, the entry numbered by its position in
//   the batch (series[i] → entry i + 1). It takes the entry's sensor and exponent (its own exponent must be 0);
//   `interval_ms` 0 without time deltas means the entry's interval; `start_ms` 0 means the entry's last time +
//   the interval (regular series only); `mantissa_deltas[0]` is a delta from the entry's last mantissa.
// - seq 0 means the previous batch's seq + 1; the stream's first batch states its seq.
// Both halves use these rules from here: `resolve` (the collector) and `StreamContextEncoder` (devices), so a batch
// encoded with context resolves to exactly the batch it was made from.

/// What one Upload or Sync stream has said so far, and the rules that complete a batch sent with stream context
/// into a plain, validated `Batch`. One per stream: a new stream starts empty.
public struct StreamContext: Sendable {
    /// What the stream said about one sensor.
    struct Entry: Sendable {
        var sensor: String
        var exponent: Int32
        var intervalMs: UInt32
        /// Time and mantissa of the entry's last reading; nil when its last definition carried none.
        var last: (ts: Int64, mantissa: Int64)?
    }

    /// Most sensors one stream may define (each costs an entry for the stream's lifetime).
    public let maxEntries: Int
    private(set) var entries: [Entry] = []
    private var numbers: [String: Int] = [:]
    /// The seq of the stream's previous batch.
    private(set) var previousSeq: UInt64?

    /// An empty context (a new stream) allowing `maxEntries` sensors.
    public init(maxEntries: Int = DecodeLimits.standard.maxSeriesPerBatch) {
        self.maxEntries = maxEntries
    }

    /// Number of sensors defined on the stream so far.
    public var definedCount: Int { entries.count }

    /// Decodes one message of the stream: protobuf, then `resolve`.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits = .standard)
        throws(DecodeError) -> Batch
    {
        try resolve(Batch(decoding: bytes, limits: limits, allowsStreamContext: true), offset: bytes.count)
    }

    /// Decodes one message of the stream held in an array.
    public mutating func decode(_ bytes: [UInt8], limits: DecodeLimits = .standard) throws(DecodeError) -> Batch {
        var context = self
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in try context.decode(buffer, limits: limits) }
        }
        self = context
        return try result.get()
    }

    /// Completes `batch` (decoded with stream context allowed) into a plain batch and remembers what it says; the
    /// result satisfies every rule of the contract. `offset` is reported in errors (the message's length).
    public mutating func resolve(_ batch: Batch, offset: Int = 0) throws(DecodeError) -> Batch {
        var resolved = batch
        if resolved.seq == 0 {
            guard let previousSeq else { throw DecodeError(.seqMustBePositive, path: "seq", offset: offset) }
            guard previousSeq < Batch.maxSeq else { throw DecodeError(.valueOutOfRange, path: "seq", offset: offset) }
            resolved.seq = previousSeq + 1
        }
        guard resolved.seq <= Batch.maxSeq else { throw DecodeError(.valueOutOfRange, path: "seq", offset: offset) }
        for index in resolved.series.indices {
            let path = "series[\(index)]"
            if resolved.series[index].continuesEntry {
                resolved.series[index] = try complete(resolved.series[index], position: index, path: path,
                                                      offset: offset)
            } else if batch.series[index].ref != 0 {
                throw DecodeError(.sensorWithRef, path: "\(path).ref", offset: offset)
            }
            try record(resolved.series[index], path: path, offset: offset)
        }
        previousSeq = resolved.seq
        return resolved
    }

    /// The number of the entry a continuing series at `position` refers to.
    static func entryNumber(of series: Series, position: Int) -> Int {
        series.ref != 0 ? Int(series.ref) : position + 1
    }

    /// The entry `number` (1-based), if defined.
    func entry(_ number: Int) -> Entry? {
        number >= 1 && number <= entries.count ? entries[number - 1] : nil
    }

    /// The number of the entry of `sensor`, if defined.
    func number(of sensor: String) -> Int? { numbers[sensor] }

    /// A continuing series with its entry's sensor, exponent, interval, start and first mantissa filled in.
    private func complete(_ series: Series, position: Int, path: String, offset: Int) throws(DecodeError) -> Series {
        let number = Self.entryNumber(of: series, position: position)
        guard let entry = entry(number) else {
            throw DecodeError(.unknownStreamEntry(number: number, defined: entries.count),
                              path: series.ref != 0 ? "\(path).ref" : path, offset: offset)
        }
        guard series.exponent == 0 else {
            throw DecodeError(.exponentOnContinuation, path: "\(path).exponent", offset: offset)
        }
        var full = series
        full.ref = 0
        full.sensor = entry.sensor
        full.exponent = entry.exponent
        if full.intervalMs == 0 && full.timeDeltasMs.isEmpty { full.intervalMs = entry.intervalMs }
        if full.startMs == 0 {
            guard full.intervalMs > 0, let last = entry.last else {
                throw DecodeError(.startNotContinuable(number: number), path: "\(path).start_ms", offset: offset)
            }
            let (start, overflow) = last.ts.addingReportingOverflow(Int64(full.intervalMs))
            guard !overflow else { throw DecodeError(.timestampOverflow, path: "\(path).start_ms", offset: offset) }
            full.startMs = start
        }
        if !full.mantissaDeltas.isEmpty, let last = entry.last {
            let (first, overflow) = last.mantissa.addingReportingOverflow(full.mantissaDeltas[0])
            guard !overflow else {
                throw DecodeError(.deltaOverflow, path: "\(path).mantissa_deltas", offset: offset)
            }
            full.mantissaDeltas[0] = first
        }
        return full
    }

    /// Validates a complete series and makes it its sensor's entry (defining the sensor when new).
    mutating func record(_ series: Series, path: String, offset: Int) throws(DecodeError) {
        try series.validate(path: path, offset: offset)
        let entry = Entry(sensor: series.sensor, exponent: series.exponent, intervalMs: series.intervalMs,
                          last: Self.lastReading(of: series))
        if let number = numbers[series.sensor] {
            entries[number - 1] = entry
        } else {
            guard entries.count < maxEntries else {
                throw DecodeError(.tooManyStreamEntries(limit: maxEntries), path: "\(path).sensor", offset: offset)
            }
            entries.append(entry)
            numbers[series.sensor] = entries.count
        }
    }

    /// Marks `seq` as the stream's latest batch (the encoder's side of `resolve`).
    mutating func recordSeq(_ seq: UInt64) { previousSeq = seq }

    /// Time and mantissa of a valid series' last reading.
    static func lastReading(of series: Series) -> (ts: Int64, mantissa: Int64)? {
        guard series.count > 0 else { return nil }
        let mantissa = series.mantissaDeltas.reduce(0, &+)
        let ts: Int64
        if series.intervalMs > 0 {
            ts = series.startMs &+ Int64(series.count - 1) &* Int64(series.intervalMs)
        } else {
            ts = series.timeDeltasMs.reduce(series.startMs) { $0 &+ Int64($1) }
        }
        return (ts, mantissa)
    }
}
