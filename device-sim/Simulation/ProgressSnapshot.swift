// The live progress line: fleet totals at one moment, summed over the event loops, printed once a second or so.
//
//     [  12.0 s] sim 00:12:00 | 9,998/10,000 connected | readings sent 1,234,560 acked 1,230,000 (41,000/s) |
//     wire 12.3 MB out 1.20 MB in | errors 3 | dropped 0
//
// (on one line). `sim` is the simulated time elapsed since the start (absent at max-rate, where every device
// keeps its own). The rate is readings acknowledged per real second since the previous snapshot, or since the start
// when there is none.

/// Fleet totals at one moment; see above.
public struct ProgressSnapshot: Equatable, Sendable {
    /// Real monotonic time of the snapshot, in ns.
    public var atNs: UInt64
    /// Simulated ms elapsed since the start; nil at max-rate.
    public var simulatedElapsedMs: Int64?
    /// Devices counted.
    public var devices = 0
    /// Devices with their connection up.
    public var connected = 0
    /// Devices that finished.
    public var finished = 0
    /// Readings sent (re-sends included).
    public var readingsSent: Int64 = 0
    /// Readings acknowledged.
    public var readingsAcked: Int64 = 0
    /// Bytes written.
    public var bytesSent: Int64 = 0
    /// Bytes read.
    public var bytesReceived: Int64 = 0
    /// Failures of every kind.
    public var errors: Int64 = 0
    /// Batches dropped (buffer full or refused).
    public var batchesDropped: Int64 = 0

    /// An empty snapshot taken at real time `atNs`.
    public init(atNs: UInt64) {
        self.atNs = atNs
    }

    /// Counts one device.
    public mutating func add(_ device: SimulatedDevice) {
        let stats = device.statistics
        devices += 1
        if device.isConnected { connected += 1 }
        if device.isFinished { finished += 1 }
        readingsSent += stats.readingsSent
        readingsAcked += stats.readingsAcked
        bytesSent += stats.bytesSent
        bytesReceived += stats.bytesReceived
        errors += stats.errors.total
        batchesDropped += stats.batchesDropped
    }

    /// Adds another event loop's snapshot (taken at about the same time).
    public mutating func merge(_ other: ProgressSnapshot) {
        atNs = max(atNs, other.atNs)
        simulatedElapsedMs = simulatedElapsedMs ?? other.simulatedElapsedMs
        devices += other.devices
        connected += other.connected
        finished += other.finished
        readingsSent += other.readingsSent
        readingsAcked += other.readingsAcked
        bytesSent += other.bytesSent
        bytesReceived += other.bytesReceived
        errors += other.errors
        batchesDropped += other.batchesDropped
    }

    /// The progress line; `startNs` is the real time the run started, `previous` the last snapshot printed.
    public func line(startNs: UInt64, previous: ProgressSnapshot? = nil) -> String {
        let elapsed = Double(atNs &- startNs) / 1e9
        let since = previous ?? ProgressSnapshot(atNs: startNs)
        let window = Double(atNs &- since.atNs) / 1e9
        let rate = window > 0 ? Double(readingsAcked - since.readingsAcked) / window : 0
        var parts = [
            "[" + String(repeating: " ", count: max(0, 6 - NumberText.fixed(elapsed, decimals: 1).count))
                + NumberText.fixed(elapsed, decimals: 1) + " s]"
        ]
        if let simulatedElapsedMs { parts[0] += " sim " + NumberText.span(simulatedElapsedMs) }
        parts.append("\(NumberText.grouped(connected))/\(NumberText.grouped(devices)) connected")
        parts.append(
            "readings sent \(NumberText.grouped(readingsSent)) acked \(NumberText.grouped(readingsAcked))"
                + " (\(NumberText.fixed(rate, decimals: 0))/s)")
        parts.append("wire \(NumberText.bytes(bytesSent)) out \(NumberText.bytes(bytesReceived)) in")
        parts.append("errors \(NumberText.grouped(errors))")
        parts.append("dropped \(NumberText.grouped(batchesDropped))")
        return parts.joined(separator: " | ")
    }
}
