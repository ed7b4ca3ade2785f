import Telemetry
import Testing

@testable import Simulation

/// The three renderings carry the documented columns and fields, with figures that match the report.
@Suite struct ReportRenderingTests {
    static let columns = [
        "protocol", "devices", "readings acked", "bytes sent", "bytes received", "B/reading", "vs best", "ack p50",
        "ack p99", "ack p99.9", "retries", "dropped", "errors",
    ]

    @Test func theTableHasTheDocumentedColumnsAligned() throws {
        let report = FleetReportTests.makeReport()
        let text = report.renderTable()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "device-sim: 9 devices, mixed, seed 42; sensors temperature, humidity, pressure, battery")
        #expect(lines[1] == "interval 1 s, batch 10 s, speedup 60×; ran 1.0 s real, 00:01:00 simulated")
        let header = try #require(lines.first { $0.hasPrefix("protocol ") })
        var position = header.startIndex
        for column in Self.columns {
            let range = try #require(header[position...].firstRange(of: column), "missing \(column)")
            position = range.upperBound
        }
        // Every row of the table ends where the header does: the numbers are right-aligned under their titles.
        let start = try #require(lines.firstIndex(of: header))
        let block = lines[start..<(start + 2 + DeviceProtocol.mixedProtocols.count + 2)]
        #expect(block.allSatisfy { $0.count == header.count }, "\(block.joined(separator: "\n"))")
        #expect(block.contains { $0.hasPrefix("grpc-stream ") } && block.contains { $0.hasPrefix("rest ") })
        let total = try #require(block.last)
        #expect(total.hasPrefix("total "))
        #expect(total.contains(NumberText.grouped(report.total.readingsAcked)))
        #expect(total.contains(NumberText.grouped(report.total.bytesSent)))
        #expect(NumberText.grouped(report.total.bytesSent).contains(","))  // thousands separated
        #expect(text.contains("1.00×") && text.contains(" ms"))
        #expect(text.contains("highest bytes per reading: \(report.highestBytesPerReading!.deviceID) (rest)"))
        #expect(text.contains("lowest bytes per reading:  \(report.lowestBytesPerReading!.deviceID) (grpc-stream)"))
        #expect(!text.contains("cross-check"))
    }

    @Test func theTableShowsTheCrossCheck() {
        let (_, run) = FleetReportTests.makeRun()
        var figures = CrossCheckTests.agreeingFigures(run.fleet.summaries)
        let description = RunDescription(
            deviceCount: 9, protocolMode: .mixed, seed: 42, sensors: [.temperature],
            intervalMs: 1_000, batchMs: 10_000, pacing: .maxRate, elapsedNs: 2_500_000_000,
            simulatedMs: nil)
        let agreeing = FleetReport.make(
            run: description, devices: run.fleet.summaries,
            latencies: run.fleet.latencies, collector: figures
        ).renderTable()
        #expect(agreeing.contains("interval 1 s, batch 10 s, max-rate; ran 2.5 s real\n"))
        #expect(agreeing.contains("cross-check with the collector: OK, 9 devices agree to the byte"))
        #expect(agreeing.contains("sim bytes sent  collector bytes in"))
        #expect(!agreeing.contains("MISMATCH"))
        figures.devices[2].counts.bytesOut += 7
        let differing = FleetReport.make(
            run: description, devices: run.fleet.summaries,
            latencies: run.fleet.latencies, collector: figures
        ).renderTable()
        #expect(differing.contains("cross-check with the collector: MISMATCH (1 of 9 devices differ)"))
        #expect(differing.contains("devices that differ (1 of 1):"))
        let received = run.fleet.summaries.first { $0.deviceID == figures.devices[2].deviceID }!.statistics
            .bytesReceived
        #expect(
            differing.contains(
                "  \(figures.devices[2].deviceID) \(run.fleet.summaries[2].deviceProtocol.name): "
                    + "bytes out \(NumberText.grouped(received)) here, "
                    + "\(NumberText.grouped(received + 7)) at the collector\n"))
    }

    @Test func jsonCarriesTheDocumentedFields() throws {
        let (_, run) = FleetReportTests.makeRun()
        let report = FleetReport.make(
            run: RunDescription(
                deviceCount: 9, protocolMode: .mixed, seed: 42, sensors: [.temperature, .co2],
                intervalMs: 1_000, batchMs: 10_000, pacing: .speedup(60), elapsedNs: 1_500_000,
                simulatedMs: 60_000),
            devices: run.fleet.summaries, latencies: run.fleet.latencies,
            collector: CrossCheckTests.agreeingFigures(run.fleet.summaries))
        let json = try JSONValue.parse(report.renderJSON())
        #expect(json["run"]?["devices"]?.int64Value == 9)
        #expect(json["run"]?["sensors"]?.arrayValue?.compactMap(\.stringValue) == ["temperature", "co2"])
        #expect(json["run"]?["pacing"]?.stringValue == "speedup" && json["run"]?["speedup"]?.doubleValue == 60)
        #expect(json["run"]?["elapsed_ms"]?.doubleValue == 1.5)
        let protocols = try #require(json["protocols"]?.arrayValue)
        #expect(protocols.compactMap { $0["protocol"]?.stringValue } == ["grpc-stream", "grpc-unary", "rest", "grpc-sync"])
        for (row, summary) in zip(protocols, report.protocols) {
            #expect(row["readings_acked"]?.int64Value == summary.statistics.readingsAcked)
            #expect(row["bytes_sent"]?.int64Value == summary.statistics.bytesSent)
            #expect(row["bytes_per_reading"]?.doubleValue == summary.bytesPerReading)
            #expect(row["ratio_to_best"]?.doubleValue == summary.ratioToBest)
            #expect(row["errors_by_kind"]?["unavailable"]?.int64Value == 0)
            #expect(row["latency_p99_ms"]?.doubleValue == summary.latency.p99Ns.map { Double($0) / 1e6 })
        }
        #expect(json["total"]?["readings_acked"]?.int64Value == report.total.readingsAcked)
        #expect(json["highest_bytes_per_reading"]?["protocol"]?.stringValue == "rest")
        #expect(json["cross_check"]?["consistent"]?.boolValue == true)
        #expect(json["cross_check"]?["protocols"]?[2]?["collector_protocol"]?.stringValue == "rest-json")
        #expect(json["devices"]?.arrayValue?.count == 9)
        #expect(json["devices"]?[0]?["device"]?.stringValue == "dev-00001")
        #expect(try JSONValue.parse(report.renderJSON(includeDevices: false))["devices"] == nil)
        let empty = FleetReport.make(run: report.run, devices: [], latencies: ProtocolLatencies())
        let emptyJSON = try JSONValue.parse(empty.renderJSON())
        #expect(emptyJSON["cross_check"]?.isNull == true && emptyJSON["lowest_bytes_per_reading"]?.isNull == true)
    }

    @Test func csvHasTheDocumentedColumnsAndOneRowPerDevice() throws {
        let report = FleetReportTests.makeReport()
        let lines = report.renderCSV().split(separator: "\n").map(String.init)
        #expect(
            lines[0] == """
                device,protocol,readings_generated,readings_sent,readings_acked,readings_stored,readings_dropped,\
                batches_generated,batches_sent,batches_acked,batches_retried,batches_dropped_full,\
                batches_dropped_rejected,duplicate_batches,buffered_batches,bytes_sent,bytes_received,bytes_per_reading,\
                handshakes_full,handshakes_resumed,handshakes_psk,tls_handshake_bytes_sent,tls_handshake_bytes_received,\
                tls_record_bytes_sent,tls_record_bytes_received,segments_sent,segments_received,\
                estimated_link_bytes_per_reading,connections,calls,errors,errors_refused,errors_reset,errors_closed,errors_timeout,errors_unavailable,\
                errors_rejected,errors_malformed,latency_mean_ms,latency_max_ms
                """)
        #expect(lines.count == 1 + 9)
        let columns = FleetReport.csvColumns
        for (line, device) in zip(lines.dropFirst(), report.devices) {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(fields.count == columns.count)
            let row = Dictionary(uniqueKeysWithValues: zip(columns, fields))
            #expect(row["device"] == device.deviceID && row["protocol"] == device.deviceProtocol.name)
            #expect(row["readings_acked"] == String(device.statistics.readingsAcked))
            #expect(row["bytes_received"] == String(device.statistics.bytesReceived))
            let perReading = try #require(Double(row["bytes_per_reading"]!))
            #expect(abs(perReading - device.statistics.bytesPerReading!) < 0.00005)
            #expect(row["latency_max_ms"] == "\(Double(FleetRun.latencyNs[device.deviceProtocol]!) / 1e6)000")
        }
    }

    @Test func csvQuotesFieldsThatNeedIt() {
        let odd = DeviceSummary(deviceID: "a,\"b\"", deviceProtocol: .rest, statistics: DeviceStatistics())
        let run = RunDescription(
            deviceCount: 1, protocolMode: .single(.rest), seed: 0, sensors: [.co2],
            intervalMs: 1, batchMs: 1, pacing: .maxRate, elapsedNs: 0, simulatedMs: nil)
        let csv = FleetReport.make(run: run, devices: [odd], latencies: ProtocolLatencies()).renderCSV()
        #expect(csv.split(separator: "\n")[1].hasPrefix("\"a,\"\"b\"\"\",rest,0,"))
        #expect(csv.split(separator: "\n")[1].hasSuffix(",,"))  // no latencies: empty fields
    }
}
