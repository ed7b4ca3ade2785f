// The telemetry wire model of schema/telemetry/v1/telemetry.proto, as plain Swift values.
//
// A `Batch` is what one device sends in one message: a sequence number that makes retries idempotent, and one
// `Series` per sensor in the compact delta form. Reading i of a series has value `mantissa_i × 10^exponent` where
// `mantissa_0 = mantissaDeltas[0]` and `mantissa_i = mantissa_(i-1) + mantissaDeltas[i]`; its time in Unix ms is
// `startMs + i × intervalMs` when `intervalMs > 0` (and `timeDeltasMs` is empty), otherwise `ts_0 = startMs` and
// `ts_i = ts_(i-1) + timeDeltasMs[i-1]`.

/// One batch of readings from one device, as carried by the gRPC `Upload`/`Push` calls.
///
/// `seq` numbers a device's batches from 1; `(device, seq)` identifies a batch, so a retried batch is stored once.
public struct Batch: Equatable, Sendable {
    /// Per-device batch number, starting at 1.
    public var seq: UInt64
    /// Largest seq accepted: 2^63−1, so a stored seq reads back the same in plain SQL (SQLite integers are signed).
    public static let maxSeq = UInt64(Int64.max)
    /// One entry per sensor (a sensor may appear in several entries; their readings are all stored).
    public var series: [Series]

    /// A batch from its parts (decoders validate; values built in code are the caller's responsibility).
    public init(seq: UInt64, series: [Series]) {
        self.seq = seq
        self.series = series
    }

    /// Number of readings in the batch.
    public var readingCount: Int { series.reduce(0) { $0 + $1.count } }
}

/// One sensor's readings in the compact, delta-encoded columnar form (protobuf message `Series`).
public struct Series: Equatable, Sendable {
    /// Sensor name, matching `[a-z0-9_.-]{1,64}`.
    public var sensor: String
    /// Decimal exponent: a reading's value is `mantissa × 10^exponent`.
    public var exponent: Int32
    /// Time of the first reading, Unix milliseconds.
    public var startMs: Int64
    /// Regular spacing of readings in ms; 0 means the spacing is given by `timeDeltasMs`.
    public var intervalMs: UInt32
    /// First mantissa, then differences between consecutive mantissas.
    public var mantissaDeltas: [Int64]
    /// The n−1 gaps between consecutive timestamps when `intervalMs == 0`; empty otherwise.
    public var timeDeltasMs: [UInt32]
    /// Stream context only (`StreamContext`): the number of the stream's entry this series continues when `sensor`
    /// is empty; 0 means the entry numbered by the series' position. Always 0 in a resolved batch.
    public var ref: UInt32

    /// A series from its parts (decoders validate); `timeDeltasMs` stays empty for evenly spaced readings.
    public init(
        sensor: String, exponent: Int32, startMs: Int64, intervalMs: UInt32,
        mantissaDeltas: [Int64], timeDeltasMs: [UInt32] = [], ref: UInt32 = 0
    ) {
        self.sensor = sensor
        self.exponent = exponent
        self.startMs = startMs
        self.intervalMs = intervalMs
        self.mantissaDeltas = mantissaDeltas
        self.timeDeltasMs = timeDeltasMs
        self.ref = ref
    }

    /// True for a series in stream-context form: it names no sensor and continues an entry of its stream.
    public var continuesEntry: Bool { sensor.isEmpty }

    /// Number of readings in the series.
    public var count: Int { mantissaDeltas.count }
}

/// The collector's answer to an upload, sent only after every batch it counts is committed.
public struct Ack: Equatable, Sendable {
    /// Batches received on the call.
    public var batches: UInt64
    /// Readings newly stored by the call (duplicates of stored readings are not counted).
    public var readings: UInt64
    /// Batches whose `(device, seq)` was already stored, so nothing of them was stored again.
    public var duplicateBatches: UInt64
    /// Highest seq stored for the device, after this call.
    public var lastSeq: UInt64

    /// Memberwise; all zero is the Ack of a call that stored nothing yet.
    public init(batches: UInt64 = 0, readings: UInt64 = 0, duplicateBatches: UInt64 = 0, lastSeq: UInt64 = 0) {
        self.batches = batches
        self.readings = readings
        self.duplicateBatches = duplicateBatches
        self.lastSeq = lastSeq
    }
}
