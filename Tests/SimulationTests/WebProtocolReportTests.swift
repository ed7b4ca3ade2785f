import Foundation
import Telemetry
import Testing

@testable import Simulation

/// gRPC-Web, its text form and Connect in the report like every other protocol: their rows in report order, their
/// collector names in the cross-check, their colours in the HTML page, the Connect codec in the run's header.
@Suite struct WebProtocolReportTests {
    static let everyProtocol = ProtocolMode.list([
        .connect, .grpcWebText, .grpcWeb, .grpcSync, .rest, .grpcUnary, .grpcStream,
    ])

    static func makeReport(codec: ConnectCodec = .json) -> FleetReport {
        let (configuration, run) = FleetReportTests.makeRun(devices: 14, mode: everyProtocol)
        var description = RunDescription(configuration: configuration, elapsedNs: 1_000_000_000, simulatedMs: 60_000)
        description.connectCodec = codec
        return FleetReport.make(
            run: description, devices: run.fleet.summaries, latencies: run.fleet.latencies,
            collector: CrossCheckTests.agreeingFigures(run.fleet.summaries))
    }

    @Test func everyProtocolHasItsRowInReportOrder() {
        let report = Self.makeReport()
        #expect(report.protocols.map(\.deviceProtocol) == DeviceProtocol.allCases)
        #expect(report.protocols.allSatisfy { $0.devices == 2 && $0.latency.p50Ns != nil })
        #expect(report.crossCheck?.isConsistent == true)
        #expect(
            report.crossCheck?.protocols.compactMap { $0.deviceProtocol.collectorName } == [
                "grpc-stream", "grpc-unary", "rest-json", "grpc-sync", "grpc-web", "grpc-web-text", "connect",
            ])
    }

    @Test func theTableNamesTheModeTheCodecAndEveryProtocol() throws {
        let text = Self.makeReport().renderTable()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(
            lines[0] == "device-sim: 14 devices, connect,grpc-web-text,grpc-web,grpc-sync,rest,grpc-unary,grpc-stream "
                + "(connect json), seed 42; sensors temperature, humidity, pressure, battery")
        for name in ["grpc-web ", "grpc-web-text ", "connect "] {
            #expect(lines.contains { $0.hasPrefix(name) }, "no row \(name)")
        }
    }

    @Test func jsonCarriesTheNewProtocolsAndTheCodec() throws {
        let json = try JSONValue.parse(Self.makeReport(codec: .proto).renderJSON())
        #expect(json["run"]?["connect_codec"]?.stringValue == "proto")
        #expect(
            json["protocols"]?.arrayValue?.compactMap { $0["protocol"]?.stringValue } == [
                "grpc-stream", "grpc-unary", "rest", "grpc-sync", "grpc-web", "grpc-web-text", "connect",
            ])
        #expect(json["cross_check"]?["protocols"]?[5]?["collector_protocol"]?.stringValue == "grpc-web-text")
        let mixed = FleetReportTests.makeReport()
        #expect(try JSONValue.parse(mixed.renderJSON())["run"]?["connect_codec"]?.isNull == true)
    }

    @Test func csvRowsUseTheFlagNames() {
        let lines = Self.makeReport().renderCSV().split(separator: "\n").map(String.init)
        let protocols = Set(lines.dropFirst().map { $0.split(separator: ",")[1] })
        #expect(
            protocols == ["grpc-stream", "grpc-unary", "rest", "grpc-sync", "grpc-web", "grpc-web-text", "connect"])
    }

    @Test func htmlGivesEachProtocolItsOwnOkabeItoColour() {
        let colours = DeviceProtocol.allCases.map(FleetReport.color)
        #expect(colours == ["#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#CC79A7", "#000000"])
        #expect(Set(colours).count == colours.count)
        let html = Self.makeReport().renderHTML()
        #expect(html.components(separatedBy: "<rect ").count - 1 == 7)
        for colour in colours { #expect(html.contains(colour)) }
        #expect(html.contains("(connect json)"))
    }
}
