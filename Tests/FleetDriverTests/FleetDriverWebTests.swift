import Collector
import CollectorService
import FleetDriver
import Foundation
import Simulation
import Storage
import Store
import Telemetry
import Testing

/// grpc-web, grpc-web-text and connect devices (one Push per batch) against a real collector, beside grpc-unary
/// (connect in protobuf and in JSON), over HTTP/1.1 keep-alive and with `--web-http 2` over HTTP/2 (h2c prior
/// knowledge; ALPN h2 over TLS, REST staying on HTTP/1.1): every generated reading is stored exactly once, the report
/// agrees with the collector's ledger to the byte (TLS bytes included, with tokens and per-batch reconnects, and
/// with TLS-PSK), and over HTTP/2 the collector's ledger shows HPACK-sized request heads (HTTP/1.1's are over 150
/// bytes a call), so the devices did speak HTTP/2.
@Suite(.serialized) struct FleetDriverWebTests {
    static let protocols = ProtocolMode.list([.grpcUnary, .grpcWeb, .grpcWebText, .connect])

    /// What the collector booked per request of a protocol: header and framing bytes from the device, and calls.
    typealias RequestBytes = (header: Int64, framing: Int64, calls: Int64)

    static func requestBytes(_ collector: CollectorServer) -> [String: RequestBytes] {
        collector.ledger.perProtocol().mapValues { ($0.bytesIn.header, $0.bytesIn.framing, $0.calls) }
    }

    /// Every request of `names` came as HTTP/2: at least a HEADERS and a DATA frame header (9 bytes each) of
    /// framing per call (HTTP/1.1 has at most gRPC-Web's 5-byte prefix); with `keptAlive`, also HPACK-sized heads
    /// (a few bytes after a connection's first request; HTTP/1.1's text heads are over 150).
    static func expectHTTP2(_ booked: [String: RequestBytes], _ names: [String], keptAlive: Bool) {
        for name in names {
            guard let counts = booked[name], counts.calls > 0 else {
                Issue.record("no calls booked for \(name)")
                continue
            }
            let framing = Double(counts.framing) / Double(counts.calls)
            #expect(framing >= 18, "\(name): \(framing) framing bytes per request: not HTTP/2")
            if keptAlive {
                let header = Double(counts.header) / Double(counts.calls)
                #expect(header < 60, "\(name): \(header) header bytes per request: not HPACK on a kept connection")
            }
        }
    }

    @Test(arguments: [ConnectCodec.proto, .json], [WebHTTPVersion.http1, .http2])
    func everyReadingIsStoredAndTheReportAgreesToTheByte(codec: ConnectCodec, webHTTP: WebHTTPVersion) throws {
        let collector = try FleetDriverTests.Collector()
        let before = try CollectorClient.figures(collector.target)
        let configuration = FleetDriverTests.configuration(
            devices: 8, mode: Self.protocols, simulated: 3 * 60_000, speedup: nil)
        var options = RunOptions(target: collector.target, loops: 2)
        options.connectCodec = codec
        options.webHTTP = webHTTP
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
            if webHTTP == .http2 {
                #expect(summary.statistics.connections == 1, "\(summary.deviceID): one connection kept alive")
            }
        }
        let deadline = Date().addingTimeInterval(5)
        while collector.server.openConnections() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let after = try CollectorClient.figures(collector.target)
        var run = RunDescription(configuration: configuration, elapsedNs: result.elapsedNs, simulatedMs: nil)
        run.connectCodec = codec
        if webHTTP == .http2 { run.webHTTP = .http2 }
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
        guard webHTTP == .http2 else { return }
        Self.expectHTTP2(
            Self.requestBytes(collector.server), ["grpc-unary", "grpc-web", "grpc-web-text", "connect"], keptAlive: true
        )
    }

    /// Over TLS, with either HTTP for the browser forms (ALPN h2 or http/1.1) and tokens or PSKs: every reading
    /// stored once, the ledger agrees to the byte, TLS bytes included.
    @Test(arguments: [
        LinkSettings(tls: .token, connectionMode: .perBatch, resumption: true),
        LinkSettings(tls: .psk, connectionMode: .keep),
    ], [WebHTTPVersion.http1, .http2])
    func overTLSTheyAgreeToTheByte(link: LinkSettings, webHTTP: WebHTTPVersion) throws {
        let collector = try FleetDriverTLSTests.TLSCollector(authenticated: true)
        let admin = "Bearer " + collector.adminToken
        let before = try CollectorClient.figures(collector.target, authorization: admin)
        var link = link
        if link.tls == .token { link.caFile = collector.certificateFile }
        let configuration = FleetDriverTests.configuration(
            devices: 8, mode: .list([.rest, .grpcWeb, .grpcWebText, .connect]), simulated: 40_000, speedup: nil)
        var options = FleetDriverTLSTests.options(collector, link)
        options.webHTTP = webHTTP
        let result = try FleetRunner.run(configuration, options: options)
        #expect(result.firstHandshakeFailure == nil)
        for summary in result.summaries {
            let statistics = summary.statistics
            #expect(summary.stoppedBy == nil, "\(summary.deviceID) was refused")
            #expect(statistics.readingsAcked == statistics.readingsGenerated && statistics.readingsAcked > 0)
            #expect(statistics.errors.total == 0, "\(summary.deviceID): \(statistics.errors)")
            #expect(statistics.tls.handshakeSent > 0)
        }
        for index in 0..<8 {
            let id = configuration.deviceID(at: index)
            let expected = FleetDriverTests.sorted(FleetDriverTests.generatedReadings(configuration, device: index))
            #expect(try FleetDriverTests.stored(collector.server, id) == expected, "\(id)")
        }
        let figures = try collector.settledFigures(authorization: admin).subtracting(before)
        let report = FleetDriverTLSTests.report(configuration, result, link, figures)
        let check = try #require(report.crossCheck)
        #expect(check.isConsistent, "\(report.renderTable())")
        #expect(check.protocols.allSatisfy { $0.collector?.tls != nil && $0.collector?.tls == $0.simulator.tls })
        // A per-batch reconnect starts a fresh HPACK table every batch: its heads are literals, but still HTTP/2.
        let booked = Self.requestBytes(collector.server)
        guard webHTTP == .http2 else { return }
        Self.expectHTTP2(booked, ["grpc-web", "grpc-web-text", "connect"], keptAlive: link.connectionMode == .keep)
        // REST stays on HTTP/1.1 (ALPN http/1.1): text heads, no frames.
        let rest = try #require(booked["rest-json"])
        #expect(rest.calls > 0 && rest.framing == 0 && Double(rest.header) / Double(rest.calls) > 100)
    }
}
