import Telemetry
import Testing

@testable import Simulation

/// The report's figures: totals add up, ratios and extremes are right, latencies come from the histograms.
@Suite struct FleetReportTests {
    /// A one-minute mixed run of nine devices against the perfect collector.
    static func makeRun(devices: Int = 9, mode: ProtocolMode = .mixed) -> (FleetConfiguration, FleetRun) {
        let settings = makeSettings(clock: SimulatedClock(start: testStartMs, speedup: 60), durationMs: 60_000)
        let configuration = FleetConfiguration(seed: 42, deviceCount: devices, protocolMode: mode, settings: settings)
        var run = FleetRun(configuration: configuration)
        run.run()
        return (configuration, run)
    }

    static func makeReport(collector: CollectorFigures? = nil) -> FleetReport {
        let (configuration, run) = makeRun()
        let description = RunDescription(configuration: configuration, elapsedNs: 1_000_000_000, simulatedMs: 60_000)
        return FleetReport.make(
            run: description, devices: run.fleet.summaries, latencies: run.fleet.latencies,
            collector: collector)
    }

    @Test func everyDeviceDeliversEveryReadingOfTheRun() {
        let (_, run) = Self.makeRun()
        for summary in run.fleet.summaries {
            let stats = summary.statistics
            #expect(stats.readingsGenerated > 0 && stats.readingsAcked == stats.readingsGenerated)
            #expect(stats.readingsStored == stats.readingsAcked)  // nothing was sent twice
            #expect(stats.batchesSent == stats.batchesGenerated && stats.batchesRetried == 0)
            #expect(summary.bufferedBatches == 0 && stats.errors.total == 0)
        }
        #expect(run.fleet.isFinished)
    }

    @Test func protocolRowsAddUpToTheTotal() {
        let report = Self.makeReport()
        #expect(report.protocols.map(\.deviceProtocol) == [.grpcStream, .grpcUnary, .rest, .grpcSync])
        #expect(report.protocols.map(\.devices) == [3, 2, 2, 2])
        var sum = DeviceStatistics()
        for row in report.protocols { sum += row.statistics }
        #expect(sum == report.total)
        var fromDevices = DeviceStatistics()
        for device in report.devices { fromDevices += device.statistics }
        #expect(fromDevices == report.total)
        #expect(report.total.readingsAcked == report.devices.reduce(0) { $0 + $1.statistics.readingsAcked })
        #expect(report.devices.map(\.deviceID) == report.devices.map(\.deviceID).sorted())
    }

    @Test func bytesPerReadingRatiosAndExtremes() throws {
        let report = Self.makeReport()
        for row in report.protocols {
            let expected =
                Double(row.statistics.bytesSent + row.statistics.bytesReceived)
                / Double(row.statistics.readingsAcked)
            #expect(row.bytesPerReading == expected)
        }
        let best = try #require(report.protocols.compactMap(\.bytesPerReading).min())
        for row in report.protocols { #expect(row.ratioToBest == row.bytesPerReading.map { $0 / best }) }
        #expect(report.protocols.contains { $0.ratioToBest == 1 })
        // JSON over HTTP/1.1 costs several times the compact stream per reading.
        let rest = try #require(report.protocols.first { $0.deviceProtocol == .rest })
        #expect(try #require(rest.ratioToBest) > 3)
        let perDevice = report.devices.compactMap(\.statistics.bytesPerReading)
        #expect(report.highestBytesPerReading?.statistics.bytesPerReading == perDevice.max())
        #expect(report.lowestBytesPerReading?.statistics.bytesPerReading == perDevice.min())
        #expect(report.highestBytesPerReading?.deviceProtocol == .rest)
        #expect(report.lowestBytesPerReading?.deviceProtocol == .grpcStream)
    }

    @Test func latencyPercentilesComeFromEachProtocolsAcks() {
        let report = Self.makeReport()
        for row in report.protocols {
            let expected = FleetRun.latencyNs[row.deviceProtocol]!
            // Every answer took the same time, so every percentile is that time (within the histogram's 0.4 %).
            for value in [row.latency.p50Ns, row.latency.p99Ns, row.latency.p999Ns] {
                let ns = Double(value ?? 0)
                #expect(abs(ns - Double(expected)) <= Double(expected) * 0.004)
            }
            #expect(row.latency.maxNs == expected)
        }
        #expect(report.totalLatency.maxNs == 4_000_000)
    }

    @Test func anEmptyRunHasNoRatesAndNoExtremes() {
        let run = RunDescription(
            deviceCount: 1, protocolMode: .single(.rest), seed: 1, sensors: [.co2],
            intervalMs: 1_000, batchMs: 1_000, pacing: .maxRate, elapsedNs: 0, simulatedMs: nil)
        let idle = DeviceSummary(deviceID: "dev-1", deviceProtocol: .rest, statistics: DeviceStatistics())
        let report = FleetReport.make(run: run, devices: [idle], latencies: ProtocolLatencies())
        #expect(report.protocols.count == 1)
        #expect(report.protocols[0].bytesPerReading == nil && report.protocols[0].ratioToBest == nil)
        #expect(report.highestBytesPerReading == nil && report.lowestBytesPerReading == nil)
        #expect(report.protocols[0].latency.p50Ns == nil)
    }
}
