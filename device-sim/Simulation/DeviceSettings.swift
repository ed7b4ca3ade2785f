// The settings every device of a run shares: what it measures, how often, how it batches and sends, and when it
// stops. The run's flags map onto them one to one (`--sensors`, `--interval`, `--batch`, `--duration`,
// `--speedup`/`--max-rate`, `--stream-batches`, the buffer bound, the backoff).

/// Settings shared by the devices of a run.
public struct DeviceSettings: Equatable, Sendable {
    /// The sensors, in the order their series appear in a batch.
    public var sensors: [SensorKind]
    /// Simulated ms between readings (`--interval`).
    public var intervalMs: Int64
    /// Simulated ms of readings per batch (`--batch`); at least one interval.
    public var batchMs: Int64
    /// Simulated time and its pacing (`--speedup` or `--max-rate`).
    public var clock: SimulatedClock
    /// Simulated ms after `clock.startMs` at which devices stop taking readings (`--duration`); nil: until `.finish`.
    public var durationMs: Int64?
    /// Batches per `Upload` stream before it is half-closed (`--stream-batches`).
    public var streamBatches: Int
    /// Most batches a device keeps waiting to be sent; beyond it the oldest is dropped.
    public var bufferCapacity: Int
    /// Waits between attempts after retryable failures.
    public var backoff: BackoffPolicy
    /// Added to every batch number on the wire: a device whose counter survives restarts continues after the seqs
    /// the collector already stored (seqs of a new run would otherwise be duplicates of the last one's).
    public var seqBase: UInt64 = 0
    /// Keep the connection, or close it after every acknowledged batch and reconnect for the next (`--connection`).
    public var connectionMode = ConnectionMode.keep

    /// Settings with the defaults for the stream window (6), buffer (64 batches) and backoff. Check
    /// `problem` before making devices with them (a device refuses settings that have one).
    public init(
        sensors: [SensorKind], intervalMs: Int64, batchMs: Int64, clock: SimulatedClock, durationMs: Int64? = nil,
        streamBatches: Int = 6, bufferCapacity: Int = 64, backoff: BackoffPolicy = BackoffPolicy()
    ) {
        self.sensors = sensors
        self.intervalMs = intervalMs
        self.batchMs = batchMs
        self.clock = clock
        self.durationMs = durationMs
        self.streamBatches = streamBatches
        self.bufferCapacity = bufferCapacity
        self.backoff = backoff
    }

    /// Simulated Unix ms at which readings stop; nil when there is no duration.
    public var endMs: Int64? { durationMs.map { clock.startMs + $0 } }

    /// Most readings one batch may hold, all sensors together.
    public static let maxReadingsPerBatch: Int64 = 50_000

    /// Readings per sensor in a full batch.
    public var readingsPerBatch: Int64 { (batchMs + intervalMs - 1) / intervalMs }

    /// Batches per Upload stream as sent: one when reconnecting per batch, `streamBatches` otherwise.
    public var batchesPerStream: Int { connectionMode == .perBatch ? 1 : streamBatches }

    /// Why these settings cannot run, for the CLI to print (`error: \(problem)`); nil when they can.
    public var problem: String? {
        if sensors.isEmpty { return "at least one sensor is needed" }
        if intervalMs < 1 || intervalMs > Int64(UInt32.max) { return "the interval must be 1 ms to 49 days" }
        if batchMs < intervalMs { return "the batch period must be at least one interval" }
        // The collector refuses messages over 4 MiB; a JSON reading takes about 60 bytes, so 50,000 readings per
        // batch (3 MB) stay clear of it, and of its 100,000-readings-per-batch limit.
        if readingsPerBatch * Int64(sensors.count) > Self.maxReadingsPerBatch {
            return "a batch may hold at most 50,000 readings (sensors × batch / interval)"
        }
        if let durationMs, durationMs < 0 { return "the duration must not be negative" }
        if streamBatches < 1 { return "a stream carries at least one batch" }
        if bufferCapacity < 1 { return "the buffer must hold at least one batch" }
        return nil
    }
}
