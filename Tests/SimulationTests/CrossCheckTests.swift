import Telemetry
import Testing

@testable import Simulation

/// The simulator's byte and reading counts against the collector's.
@Suite struct CrossCheckTests {
    /// The collector's figures as a collector that saw exactly what the simulator sent would report them.
    static func agreeingFigures(_ devices: [DeviceSummary]) -> CollectorFigures {
        var protocols: [String: CollectorFigures.Counts] = [:]
        var rows: [CollectorFigures.DeviceRow] = []
        for device in devices {
            let counts = CrossCheck.clientCounts(device.statistics)
            protocols[device.deviceProtocol.collectorName, default: .init(bytesIn: 0, bytesOut: 0, readings: 0)] +=
                counts
            rows.append(
                .init(
                    deviceID: device.deviceID, protocolName: device.deviceProtocol.collectorName,
                    counts: counts))
        }
        return CollectorFigures(protocols: protocols, devices: rows)
    }

    @Test func passesWhenBothSidesAgree() throws {
        let (_, run) = FleetReportTests.makeRun()
        let check = CrossCheck.make(devices: run.fleet.summaries, collector: Self.agreeingFigures(run.fleet.summaries))
        #expect(check.isConsistent)
        #expect(check.protocols.count == DeviceProtocol.mixedProtocols.count && check.protocols.allSatisfy { $0.isMatch })
        #expect(check.deviceMismatches.isEmpty && check.devicesCompared == 9 && check.collectorOnlyRows == 0)
        let rest = try #require(check.protocols.first { $0.deviceProtocol == .rest })
        #expect(rest.simulator.readings > 0)
    }

    @Test(arguments: ["bytesIn", "bytesOut", "readings"])
    func flagsADeviceThatDiffersByOne(field: String) {
        let (_, run) = FleetReportTests.makeRun()
        var figures = Self.agreeingFigures(run.fleet.summaries)
        switch field {
        case "bytesIn": figures.devices[4].counts.bytesIn += 1
        case "bytesOut": figures.devices[4].counts.bytesOut -= 1
        default: figures.devices[4].counts.readings += 1
        }
        let check = CrossCheck.make(devices: run.fleet.summaries, collector: figures)
        #expect(!check.isConsistent)
        #expect(check.deviceMismatches.map(\.deviceID) == [figures.devices[4].deviceID])
        // The protocol totals still agree (only the device rows were changed), and that alone is not enough.
        #expect(check.protocols.allSatisfy { $0.isMatch })
    }

    @Test func flagsAProtocolTotalAndMissingRows() {
        let (_, run) = FleetReportTests.makeRun()
        var figures = Self.agreeingFigures(run.fleet.summaries)
        figures.protocols["rest-json"]!.bytesIn += 120  // e.g. a refused request booked to the overhead row
        let missing = figures.devices.removeFirst()
        figures.devices.append(
            .init(
                deviceID: "someone-else", protocolName: "grpc-unary",
                counts: .init(bytesIn: 1, bytesOut: 1, readings: 1)))
        let check = CrossCheck.make(devices: run.fleet.summaries, collector: figures)
        #expect(!check.isConsistent)
        #expect(check.protocols.filter { !$0.isMatch }.map(\.deviceProtocol) == [.rest])
        #expect(check.deviceMismatches.count == 1)
        #expect(check.deviceMismatches[0].deviceID == missing.deviceID && check.deviceMismatches[0].collector == nil)
        #expect(check.collectorOnlyRows == 1)
    }

    @Test func readsTheCollectorsBandwidthResponses() throws {
        // As `BandwidthReport.perProtocol` and `.perDevice` write them (extra fields ignored).
        let bandwidth = Array(
            """
            {"protocols":[{"protocol":"grpc-stream","bytes_in":1000,"bytes_out":200,"readings":400,"batches":10,\
            "bytes_per_reading":3.0},{"protocol":"rest-json","bytes_in":9000,"bytes_out":900,"readings":400,\
            "bytes_per_reading":24.75}],"socket_bytes_in":10000,"socket_bytes_out":1100}
            """.utf8)
        let devices = Array(
            """
            {"devices":[{"device":"dev-00001","protocol":"grpc-stream","bytes_in":1000,"bytes_out":200,\
            "readings":400,"errors":0},{"device":"dev-00003","protocol":"rest-json","bytes_in":9000,\
            "bytes_out":900,"readings":400}]}
            """.utf8)
        let figures = try CollectorFigures(bandwidthJSON: bandwidth, devicesJSON: devices)
        #expect(figures.protocols["grpc-stream"] == .init(bytesIn: 1000, bytesOut: 200, readings: 400))
        #expect(figures.protocols["rest-json"] == .init(bytesIn: 9000, bytesOut: 900, readings: 400))
        #expect(figures.devices.map(\.deviceID) == ["dev-00001", "dev-00003"])
        #expect(figures.devices[1].counts == .init(bytesIn: 9000, bytesOut: 900, readings: 400))
        #expect(throws: DecodeError.self) {
            try CollectorFigures(bandwidthJSON: Array(#"{"protocols":[{"protocol":"x"}]}"#.utf8), devicesJSON: devices)
        }
    }
}
