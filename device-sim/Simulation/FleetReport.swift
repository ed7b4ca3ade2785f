// The end-of-run report as plain values, built once from the devices' summaries, the per-protocol latency
// histograms and (optionally) the collector's bandwidth figures; the renderers (`renderTable`, `renderJSON`,
// `renderCSV`) only format it.
//
// Definitions:
// - wire bytes per reading = (bytes sent + bytes received) / readings acknowledged, per protocol, per device and
//   overall; a protocol's ratio to best = its bytes per reading / the lowest protocol's;
// - totals are sums over devices, so every protocol row adds up to the total row;
// - the devices with the highest and lowest bytes per reading are chosen among devices with acknowledged
//   readings, ties broken by device id.

/// The report; see above.
public struct FleetReport: Equatable, Sendable {
    /// What was run.
    public var run: RunDescription
    /// One line per protocol used, in `DeviceProtocol` order.
    public var protocols: [ProtocolSummary]
    /// Every device's counters added up.
    public var total: DeviceStatistics
    /// Batches still buffered at the end, fleet-wide.
    public var totalBufferedBatches: Int
    /// Latencies over all protocols.
    public var totalLatency: LatencyPercentiles
    /// The device with the most wire bytes per reading.
    public var highestBytesPerReading: DeviceSummary?
    /// The device with the fewest wire bytes per reading.
    public var lowestBytesPerReading: DeviceSummary?
    /// Every device, by device id.
    public var devices: [DeviceSummary]
    /// The comparison with the collector's figures, when they were given.
    public var crossCheck: CrossCheck?

    /// Builds the report.
    public static func make(
        run: RunDescription, devices: [DeviceSummary], latencies: ProtocolLatencies,
        collector: CollectorFigures? = nil
    ) -> FleetReport {
        let sorted = devices.sorted { $0.deviceID < $1.deviceID }
        var total = DeviceStatistics()
        var totalBuffered = 0
        var allLatencies = LatencyHistogram()
        var protocols: [ProtocolSummary] = []
        for deviceProtocol in DeviceProtocol.allCases {
            let members = sorted.filter { $0.deviceProtocol == deviceProtocol }
            guard !members.isEmpty else { continue }
            var statistics = DeviceStatistics()
            var buffered = 0
            for member in members {
                statistics += member.statistics
                buffered += member.bufferedBatches
            }
            total += statistics
            totalBuffered += buffered
            allLatencies.merge(latencies[deviceProtocol])
            protocols.append(
                ProtocolSummary(
                    deviceProtocol: deviceProtocol, devices: members.count,
                    statistics: statistics, bufferedBatches: buffered,
                    latency: LatencyPercentiles(latencies[deviceProtocol])))
        }
        if let best = protocols.compactMap(\.bytesPerReading).min(), best > 0 {
            for index in protocols.indices {
                protocols[index].ratioToBest = protocols[index].bytesPerReading.map { $0 / best }
            }
        }
        let measured = sorted.filter { $0.statistics.bytesPerReading != nil }
        // `sorted` is in id order and max/min keep the first of equals, so ties go to the lowest id.
        let highest = measured.max { $0.statistics.bytesPerReading! < $1.statistics.bytesPerReading! }
        let lowest = measured.min { $0.statistics.bytesPerReading! < $1.statistics.bytesPerReading! }
        return FleetReport(
            run: run, protocols: protocols, total: total, totalBufferedBatches: totalBuffered,
            totalLatency: LatencyPercentiles(allLatencies), highestBytesPerReading: highest,
            lowestBytesPerReading: lowest, devices: sorted,
            crossCheck: collector.map { CrossCheck.make(devices: sorted, collector: $0) })
    }

    /// Devices stopped by an authentication refusal, counted per refusal (most frequent first).
    public var stoppedDevices: [(failure: DeviceFailure, count: Int)] {
        var counts: [DeviceFailure: Int] = [:]
        for device in devices { if let failure = device.stoppedBy { counts[failure, default: 0] += 1 } }
        return counts.map { ($0.key, $0.value) }
            .sorted { ($0.count, $1.failure.description) > ($1.count, $0.failure.description) }
    }
}
