import Collector
import CollectorService
import FleetDriver
import Foundation
import Simulation
import Storage
import Store
import Telemetry
import Testing

/// grpc-web, grpc-web-text and connect devices (one Push per batch over HTTP/1.1) against a real collector, beside
/// grpc-unary (connect in protobuf and in JSON): every generated reading is stored exactly once, the report agrees
/// with the collector's ledger to the byte; over TLS (ALPN http/1.1) with tokens and per-batch reconnects too, and
/// with TLS-PSK.
@Suite(.serialized) struct FleetDriverWebTests {
    static let protocols = ProtocolMode.list([.grpcUnary, .grpcWeb, .grpcWebText, .connect])

    @Test(arguments: [ConnectCodec.proto, .json])
    func everyReadingIsStoredAndTheReportAgreesToTheByte(codec: ConnectCodec) throws {
        let collector = try FleetDriverTests.Collector()
        let before = try CollectorClient.figures(collector.target)
        let configuration = FleetDriverTests.configuration(
            devices: 8, mode: Self.protocols, simulated: 3 * 60_000, speedup: nil)
        var options = RunOptions(target: collector.target, loops: 2)
        options.connectCodec = codec
        let result = try FleetRunner.run(configuration, options: options)
        for index in 0..<8 {
            let id = configuration.deviceID(at: index)
            let expected = FleetDriverTests.sorted(FleetDriverTests.generatedReadings(configuration, device: index))
            #expect(expected.count > (3 * 60 - 10) * 4)
            #expect(try FleetDriverTests.stored(collector.server, id) == expected, "\(id)")
        }
        for summary in result.summaries {
            #expect(summary.statistics.errors.total == 0, "\(summary.deviceID): \(summary.statistics.errors)")
            #expect(summary.statistics.calls == summary.statistics.batchesGenerated, "one Push per batch")
        }
        let deadline = Date().addingTimeInterval(5)
        while collector.server.openConnections() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let after = try CollectorClient.figures(collector.target)
        var run = RunDescription(configuration: configuration, elapsedNs: result.elapsedNs, simulatedMs: nil)
        run.connectCodec = codec
        let report = FleetReport.make(
            run: run, devices: result.summaries, latencies: result.latencies, collector: after.subtracting(before))
        #expect(report.protocols.map(\.deviceProtocol) == [.grpcUnary, .grpcWeb, .grpcWebText, .connect])
        let check = try #require(report.crossCheck)
        #expect(check.isConsistent, "\(report.renderTable())")
        #expect(check.protocols.map { $0.collector != nil } == [true, true, true, true])
        let totals = collector.server.ledger.perProtocol()
        for summary in report.protocols {
            #expect(totals[summary.deviceProtocol.collectorName]?.readings == summary.statistics.readingsAcked)
            #expect(summary.bytesPerReading != nil)
        }
    }

    // Over TLS (either HTTP): FleetDriverWebHTTP2Tests.overTLSTheyAgreeToTheByte.
}
