// A device refused for authentication stops instead of retrying forever, and the report says why.

import Telemetry
import Testing

@testable import Simulation

@Suite struct SimulatedDeviceAuthenticationTests {
    @Test(arguments: [
        (DeviceProtocol.grpcUnary, DeviceFailure.grpcStatus(16)), (.grpcUnary, .grpcStatus(7)),
        (.rest, .httpStatus(401)), (.rest, .httpStatus(403)),
    ])
    func anAuthenticationRefusalStopsTheDevice(deviceProtocol: DeviceProtocol, failure: DeviceFailure) {
        var harness = DeviceHarness(makeDevice(protocol: deviceProtocol))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 3))  // batch 1 in flight, 2 and 3 buffered
        let next = harness.send(.callFailed(failure))
        #expect(next == [.disconnect, .finished])
        #expect(harness.isFinished)
        #expect(harness.device.stoppedBy == failure)
        #expect(harness.device.summary.stoppedBy == failure)
        #expect(harness.device.statistics.batchesDroppedRejected == 1)
        #expect(harness.device.summary.bufferedBatches == 2)
        // Nothing more happens, whatever time brings.
        #expect(harness.advance(to: harness.closeTime(ofBatch: 10)).isEmpty)
        #expect(harness.send(.tick).isEmpty)
    }

    @Test func anUploadStreamRefusedAtItsHeadersStopsTheDevice() {
        var harness = DeviceHarness(makeDevice(protocol: .grpcStream))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 2))
        #expect(harness.streamSeqs == [1, 2])
        let next = harness.send(.callFailed(.grpcStatus(16)))
        #expect(next == [.disconnect, .finished])
        #expect(harness.device.statistics.batchesDroppedRejected == 2)
    }

    @Test(arguments: [DeviceFailure.grpcStatus(3), .grpcStatus(14), .httpStatus(400), .httpStatus(503)])
    func otherFailuresDoNotStopTheDevice(failure: DeviceFailure) {
        var harness = DeviceHarness(makeDevice(protocol: .rest))
        harness.send(.start)
        harness.send(.connected)
        harness.advance(to: harness.closeTime(ofBatch: 1))
        harness.send(.callFailed(failure))
        #expect(harness.device.stoppedBy == nil)
        #expect(!harness.isFinished)
    }

    @Test func theReportSaysWhichDevicesStoppedAndWhy() {
        var stopped = DeviceStatistics()
        stopped.batchesDroppedRejected = 1
        stopped.bytesSent = 100
        let devices = [
            DeviceSummary(deviceID: "dev-1", deviceProtocol: .rest, statistics: stopped, stoppedBy: .httpStatus(401)),
            DeviceSummary(deviceID: "dev-2", deviceProtocol: .rest, statistics: stopped, stoppedBy: .httpStatus(401)),
            DeviceSummary(
                deviceID: "dev-3", deviceProtocol: .grpcUnary, statistics: stopped,
                stoppedBy: .grpcStatus(7)),
            DeviceSummary(deviceID: "dev-4", deviceProtocol: .rest, statistics: DeviceStatistics()),
        ]
        let collector = CollectorFigures(protocols: [:], devices: [])
        let report = FleetReport.make(
            run: RunDescription(
                configuration: FleetConfiguration(
                    seed: 1, deviceCount: 4, protocolMode: .mixed,
                    settings: makeSettings()),
                elapsedNs: 1_000_000_000, simulatedMs: 60_000),
            devices: devices, latencies: ProtocolLatencies(), collector: collector)
        #expect(report.stoppedDevices.map(\.failure) == [.httpStatus(401), .grpcStatus(7)])
        #expect(report.stoppedDevices.map(\.count) == [2, 1])
        let table = report.renderTable()
        #expect(table.contains("stopped: 2 devices refused by the collector with http 401 (not authenticated"))
        #expect(table.contains("stopped: 1 devices refused by the collector with grpc-status 7 (not allowed"))
        // Stopped devices are compared in the protocol totals only.
        #expect(report.crossCheck?.devicesNotCompared == 3)
        #expect(report.crossCheck?.devicesCompared == 1)
        let json = String(decoding: report.renderJSON(), as: UTF8.self)
        #expect(json.contains(#""devices_stopped":3"#))
        #expect(json.contains(#""stopped_by":"http 401""#))
        #expect(json.contains(#""devices_not_compared":3"#))
    }
}
