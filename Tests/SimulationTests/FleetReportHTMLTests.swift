import Foundation
import Testing
@testable import Simulation
import Telemetry

/// The HTML report: self-contained, one bar per protocol, one row per device, escaped text.
@Suite struct FleetReportHTMLTests {
    @Test func pageIsSelfContainedWithABarPerProtocolAndARowPerDevice() {
        var devices: [DeviceSummary] = []
        for (index, deviceProtocol) in [DeviceProtocol.grpcStream, .grpcUnary, .rest].enumerated() {
            var statistics = DeviceStatistics()
            statistics.readingsAcked = 1000
            statistics.bytesSent = Int64([4200, 6000, 61000][index])
            statistics.bytesReceived = 100
            devices.append(DeviceSummary(deviceID: "d<\(index)>", deviceProtocol: deviceProtocol, statistics: statistics,
                                         bufferedBatches: 0, bufferedReadings: 0))
        }
        let run = RunDescription(deviceCount: 3, protocolMode: .mixed, seed: 1, sensors: [.temperature], intervalMs: 1000,
                                 batchMs: 10_000, pacing: .maxRate, elapsedNs: 1, simulatedMs: nil)
        let html = FleetReport.make(run: run, devices: devices, latencies: ProtocolLatencies()).renderHTML()
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(html.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(html.contains("4.30 B/reading (1.00×)"))
        #expect(html.contains("61.10 B/reading (14.21×)"))
        #expect(html.contains("<td>d&lt;2&gt;</td>"))
        #expect(!html.contains("d<2>"))
    }
}
