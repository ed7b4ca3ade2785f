import Telemetry
import Testing

@testable import Simulation

/// The report's link figures: handshakes, TLS bytes, segments and the estimated link bytes per reading, in every
/// form, and the cross-check of TLS bytes when the collector reports them.
@Suite struct LinkReportTests {
    /// The nine-device run with TLS-like link figures added to every device: one full and two resumed handshakes,
    /// fixed TLS bytes and segments.
    static func tlsDevices() -> (FleetConfiguration, [DeviceSummary], FleetRun) {
        let (configuration, run) = FleetReportTests.makeRun()
        var fleet = run.fleet
        for slot in fleet.devices.indices {
            fleet.recordHandshake(slot: slot, .full)
            fleet.recordHandshake(slot: slot, .resumed)
            fleet.recordHandshake(slot: slot, .resumed)
            fleet.recordTLSBytes(
                slot: slot, TLSBytes(handshakeSent: 400, handshakeReceived: 1_100, recordSent: 66, recordReceived: 44))
            fleet.recordSegments(slot: slot, sent: 10, received: 8)
        }
        return (configuration, fleet.summaries, run)
    }

    static func report(collector: CollectorFigures? = nil) -> FleetReport {
        let (configuration, devices, run) = tlsDevices()
        var description = RunDescription(configuration: configuration, elapsedNs: 1_000_000_000, simulatedMs: 60_000)
        description.link = LinkSettings(tls: .token, connectionMode: .perBatch)
        return FleetReport.make(run: description, devices: devices, latencies: run.fleet.latencies, collector: collector)
    }

    @Test func tlsBytesArePartOfTheWireBytes() {
        let (_, plain) = FleetReportTests.makeRun()
        let (_, tls, _) = Self.tlsDevices()
        for (before, after) in zip(plain.fleet.summaries, tls) {
            #expect(after.statistics.bytesSent == before.statistics.bytesSent + 466)
            #expect(after.statistics.bytesReceived == before.statistics.bytesReceived + 1_144)
            #expect(after.statistics.tls.handshakeTotal == 1_500 && after.statistics.tls.recordTotal == 110)
            #expect(after.statistics.handshakes.full == 1 && after.statistics.handshakes.resumed == 2)
        }
    }

    @Test func protocolRowsAddUpAndTheLinkEstimateAdds52BytesPerSegment() throws {
        let report = Self.report()
        var sum = DeviceStatistics()
        for row in report.protocols { sum += row.statistics }
        #expect(sum == report.total)
        #expect(report.total.handshakes == { var h = HandshakeCounts(); h.full = 9; h.resumed = 18; return h }())
        #expect(report.total.segmentsSent == 90 && report.total.segmentsReceived == 72)
        let row = try #require(report.protocols.first)
        let stats = row.statistics
        let expected = Double(stats.bytesSent + stats.bytesReceived + 52 * (stats.segmentsSent + stats.segmentsReceived))
            / Double(stats.readingsAcked)
        #expect(row.estimatedLinkBytesPerReading == expected)
        #expect(try #require(row.estimatedLinkBytesPerReading) > row.bytesPerReading!)
    }

    @Test func theTableShowsTheLinkTableLabelledAnEstimate() {
        let table = Self.report().renderTable()
        #expect(table.contains("link: TLS (certificate, token), per-batch reconnect, resumption on"))
        #expect(table.contains("TLS handshake B") && table.contains("est. link B/reading"))
        #expect(table.contains("an estimate"))
        // A run without segment counts or TLS has no link table.
        #expect(!FleetReportTests.makeReport().renderTable().contains("est. link B/reading"))
    }

    @Test func jsonCSVAndHTMLCarryTheLinkFigures() throws {
        let report = Self.report()
        let json = try JSONValue.parse(report.renderJSON())
        let grpc = try #require(json["protocols"]?.arrayValue?.first)
        let counts = report.protocols[0].statistics
        #expect(grpc["handshakes_full"]?.int64Value == counts.handshakes.full)
        #expect(grpc["handshakes_resumed"]?.int64Value == counts.handshakes.resumed)
        #expect(grpc["handshakes_psk"]?.int64Value == 0)
        #expect(grpc["tls_handshake_bytes_received"]?.int64Value == counts.tls.handshakeReceived)
        #expect(grpc["tls_record_bytes_sent"]?.int64Value == counts.tls.recordSent)
        #expect(grpc["segments_sent"]?.int64Value == counts.segmentsSent)
        #expect(grpc["estimated_link_bytes_per_reading"] != nil)
        #expect(json["run"]?["connection"]?.stringValue == "per-batch")
        #expect(json["run"]?["tls_auth"]?.stringValue == "token")
        let csv = report.renderCSV().split(separator: "\n")
        #expect(csv[0].split(separator: ",").count == FleetReport.csvColumns.count)
        #expect(csv[1].split(separator: ",", omittingEmptySubsequences: false).count == FleetReport.csvColumns.count)
        #expect(FleetReport.csvColumns.contains("estimated_link_bytes_per_reading"))
        let html = report.renderHTML()
        #expect(html.contains("Link: TLS and TCP") && html.contains("an estimate"))
    }

    @Test func crossCheckComparesTLSBytesWhenTheCollectorReportsThem() {
        let (_, devices, _) = Self.tlsDevices()
        var figures = CrossCheckTests.agreeingFigures(devices)
        #expect(figures.devices.allSatisfy { $0.counts.tls != nil })
        #expect(CrossCheck.make(devices: devices, collector: figures).isConsistent)
        // Same totals, but the collector saw one byte more handshake and one less record overhead: a mismatch.
        figures.devices[2].counts.tls!.handshakeSent += 1
        figures.devices[2].counts.tls!.recordSent -= 1
        let check = CrossCheck.make(devices: devices, collector: figures)
        #expect(!check.isConsistent && check.deviceMismatches.map(\.deviceID) == [devices[2].deviceID])
        // Segments are never compared.
        var segments = CrossCheckTests.agreeingFigures(devices)
        segments.devices[0].counts.segments = (1, 1)
        #expect(CrossCheck.make(devices: devices, collector: segments).isConsistent)
    }

    @Test func aCollectorWithoutTLSFieldsIsComparedOnTotals() {
        let (_, devices, _) = Self.tlsDevices()
        var figures = CrossCheckTests.agreeingFigures(devices)
        for index in figures.devices.indices { figures.devices[index].counts.tls = nil }
        for key in figures.protocols.keys { figures.protocols[key]!.tls = nil }
        let check = CrossCheck.make(devices: devices, collector: figures)
        #expect(check.isConsistent)
        let table = FleetReport.make(
            run: Self.report().run, devices: devices, latencies: ProtocolLatencies(), collector: figures
        ).renderTable()
        #expect(table.contains("the collector does not report TLS bytes"))
    }

    @Test func collectorTLSFieldsAreReadWhenPresent() throws {
        let bandwidth = Array(
            """
            {"protocols":[{"protocol":"grpc-unary","bytes_in":3000,"bytes_out":2000,"readings":40,
            "tls_handshake_bytes_in":500,"tls_handshake_bytes_out":1200,"tls_record_bytes_in":66,
            "tls_record_bytes_out":44,"segments_in":12,"segments_out":10}]}
            """.utf8)
        let devices = Array(#"{"devices":[]}"#.utf8)
        let figures = try CollectorFigures(bandwidthJSON: bandwidth, devicesJSON: devices)
        let row = try #require(figures.protocols["grpc-unary"])
        #expect(row.tls == TLSBytes(handshakeSent: 500, handshakeReceived: 1_200, recordSent: 66, recordReceived: 44))
        #expect(row.segments?.sent == 12 && row.segments?.received == 10)
        let plain = try CollectorFigures(
            bandwidthJSON: Array(#"{"protocols":[{"protocol":"x","bytes_in":1,"bytes_out":2,"readings":3}]}"#.utf8),
            devicesJSON: devices)
        #expect(plain.protocols["x"]?.tls == nil && plain.protocols["x"]?.segments == nil)
    }
}
