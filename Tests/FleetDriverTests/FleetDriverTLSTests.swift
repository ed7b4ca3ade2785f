import Foundation
import Testing
import Collector
import CollectorService
import FleetDriver
import Simulation
import Storage
import Store
import TLS
import Telemetry
import Trust

/// device-sim's devices over TLS against a real collector serving TLS on its one port: sleeping devices that
/// reconnect for every batch resume their sessions, PSK devices send no token, every batch is acknowledged and
/// stored, and the report's bytes (ciphertext) agree with the collector's ledger to the byte.
@Suite(.serialized) struct FleetDriverTLSTests {
    /// A collector with TLS (a fresh self-signed certificate, which the devices trust as their CA file).
    final class TLSCollector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-sim-tls-\(UUID().uuidString)")
        let server: CollectorServer
        let certificateFile: String
        let fleetKey: FleetKey
        let adminToken = "admin-token-for-the-tls-tests"
        var target: String { "127.0.0.1:\(server.localAddress.port)" }

        init(authenticated: Bool = false) throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            certificateFile = directory.appendingPathComponent("tls-cert.pem").path
            let keyFile = directory.appendingPathComponent("tls-key.pem").path
            try SelfSignedCertificate.create(
                certificateFile: certificateFile, keyFile: keyFile, hostNames: ["localhost", "127.0.0.1", "::1"])
            fleetKey = try FleetKey(Array("a fleet key for the device-sim TLS tests".utf8))
            var configuration = CollectorConfiguration()
            configuration.listen = "127.0.0.1:0"
            configuration.databasePath = directory.appendingPathComponent("t.db").path
            configuration.loops = 2
            configuration.tls = CollectorTLSSettings(certificateFile: certificateFile, keyFile: keyFile)
            if authenticated {
                configuration.authentication = AuthenticationSettings(
                    credentials: .init(fleetKey: fleetKey, adminToken: try AdminToken(Array(adminToken.utf8))))
            }
            let store = try TelemetryStore(path: configuration.databasePath)
            server = try CollectorServer(configuration: configuration, store: store, log: Log(isVerbose: false))
        }

        /// The figures after the run's connections closed (the collector books a connection's last bytes then).
        func settledFigures(authorization: String? = nil) throws -> CollectorFigures {
            let deadline = Date().addingTimeInterval(5)
            while server.openConnections() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return try CollectorClient.figures(target, authorization: authorization)
        }

        deinit {
            server.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func options(_ collector: TLSCollector, _ link: LinkSettings) -> RunOptions {
        var options = RunOptions(target: collector.target, loops: 2)
        options.link = link
        options.fleetKey = collector.fleetKey
        return options
    }

    static func report(
        _ configuration: FleetConfiguration, _ result: RunResult, _ link: LinkSettings, _ figures: CollectorFigures
    ) -> FleetReport {
        var run = RunDescription(configuration: configuration, elapsedNs: result.elapsedNs, simulatedMs: nil)
        run.link = link
        return FleetReport.make(run: run, devices: result.summaries, latencies: result.latencies, collector: figures)
    }

    @Test func sleepingDevicesResumeTheirSessionsAndTheReportAgreesToTheByte() throws {
        let collector = try TLSCollector()
        let before = try CollectorClient.figures(collector.target)
        // Six devices, all three protocols, five batches each, reconnecting for every batch.
        let configuration = FleetDriverTests.configuration(devices: 6, mode: .mixed, simulated: 50_000, speedup: nil)
        let link = LinkSettings(tls: .token, connectionMode: .perBatch, resumption: true,
                                caFile: collector.certificateFile)
        let result = try FleetRunner.run(configuration, options: Self.options(collector, link))
        #expect(result.firstHandshakeFailure == nil)
        for (index, summary) in result.summaries.sorted(by: { $0.deviceID < $1.deviceID }).enumerated() {
            let statistics = summary.statistics
            // Every batch was acknowledged, each on its own connection, and stored exactly.
            #expect(statistics.batchesAcked == statistics.batchesGenerated && statistics.batchesGenerated >= 4)
            #expect(statistics.connections == statistics.batchesAcked, "\(summary.deviceID): one connection a batch")
            #expect(statistics.readingsAcked == statistics.readingsGenerated)
            let stored = try FleetDriverTests.stored(collector.server, summary.deviceID)
            #expect(stored == FleetDriverTests.sorted(FleetDriverTests.generatedReadings(configuration, device: index)))
            // The first handshake is full, every later one resumed from the previous connection's ticket.
            #expect(statistics.handshakes.full == 1, "\(summary.deviceID)")
            #expect(statistics.handshakes.resumed == statistics.connections - 1, "\(summary.deviceID)")
            #expect(statistics.handshakes.psk == 0)
            #expect(statistics.tls.handshakeSent > 0 && statistics.tls.recordSent > 0)
            #expect(statistics.segmentsSent > 0 && statistics.segmentsReceived > 0)
        }
        let report = Self.report(configuration, result, link, try collector.settledFigures().subtracting(before))
        let check = try #require(report.crossCheck)
        #expect(check.isConsistent, "\(report.renderTable())")
        // The collector reports its TLS split, so handshake and record bytes were compared to the byte too.
        #expect(check.protocols.allSatisfy { $0.collector?.tls != nil && $0.collector?.tls == $0.simulator.tls })
        #expect(report.renderTable().contains("TLS handshake and record bytes compared too"))
        #expect(report.renderTable().contains("est. link B/reading"))
    }

    /// Kept-alive TLS (one full handshake per device, Upload streams of six batches), and plaintext devices that
    /// reconnect per batch (no TLS at all): both deliver everything and agree with the collector to the byte.
    @Test(arguments: [
        LinkSettings(tls: .token, connectionMode: .keep), LinkSettings(tls: nil, connectionMode: .perBatch),
    ])
    func keptTLSAndPlaintextPerBatchAgreeToTheByte(link: LinkSettings) throws {
        let collector = try TLSCollector()
        var link = link
        if link.isTLS { link.caFile = collector.certificateFile }
        let before = try CollectorClient.figures(collector.target)
        let configuration = FleetDriverTests.configuration(devices: 6, mode: .mixed, simulated: 2 * 60_000, speedup: nil)
        let result = try FleetRunner.run(configuration, options: Self.options(collector, link))
        for summary in result.summaries {
            let statistics = summary.statistics
            #expect(statistics.readingsAcked == statistics.readingsGenerated && statistics.readingsAcked > 0)
            if link.isTLS {
                #expect(statistics.connections == 1 && statistics.handshakes.full == 1)
            } else {
                #expect(statistics.connections == statistics.batchesAcked && statistics.handshakes.total == 0)
                #expect(statistics.tls.isZero)
            }
        }
        let report = Self.report(configuration, result, link, try collector.settledFigures().subtracting(before))
        #expect(try #require(report.crossCheck).isConsistent, "\(report.renderTable())")
    }

    /// A collector with authentication on also looks up external PSKs; a resuming device's ticket must still
    /// resume there (OpenSSL offers the ticket to the PSK lookup first, which must let an identity that is not a
    /// device id fall through to ticket decryption instead of failing the handshake).
    @Test func sessionsResumeOnACollectorThatAlsoServesPSK() throws {
        let collector = try TLSCollector(authenticated: true)
        let admin = "Bearer " + collector.adminToken
        let before = try CollectorClient.figures(collector.target, authorization: admin)
        let configuration = FleetDriverTests.configuration(devices: 3, mode: .mixed, simulated: 40_000, speedup: nil)
        let link = LinkSettings(tls: .token, connectionMode: .perBatch, caFile: collector.certificateFile)
        let result = try FleetRunner.run(configuration, options: Self.options(collector, link))
        for summary in result.summaries {
            #expect(summary.statistics.readingsAcked == summary.statistics.readingsGenerated)
        }
        let report = Self.report(configuration, result, link,
                                 try collector.settledFigures(authorization: admin).subtracting(before))
        #expect(result.firstHandshakeFailure == nil)
        for summary in result.summaries {
            #expect(summary.statistics.handshakes.resumed == summary.statistics.connections - 1)
            #expect(summary.statistics.errors.total == 0)
        }
        #expect(report.crossCheck?.isConsistent == true, "\(report.renderTable())")
    }

    @Test func resumptionOffMakesEveryHandshakeFull() throws {
        let collector = try TLSCollector()
        let configuration = FleetDriverTests.configuration(devices: 3, mode: .mixed, simulated: 30_000, speedup: nil)
        let link = LinkSettings(tls: .token, connectionMode: .perBatch, resumption: false,
                                caFile: collector.certificateFile)
        let result = try FleetRunner.run(configuration, options: Self.options(collector, link))
        for summary in result.summaries {
            #expect(summary.statistics.handshakes.full == summary.statistics.connections)
            #expect(summary.statistics.handshakes.resumed == 0)
            #expect(summary.statistics.readingsAcked == summary.statistics.readingsGenerated)
        }
    }

    @Test func pskDevicesSendNoTokenAndAgreeToTheByte() throws {
        let collector = try TLSCollector(authenticated: true)
        let admin = "Bearer " + collector.adminToken
        let before = try CollectorClient.figures(collector.target, authorization: admin)
        let configuration = FleetDriverTests.configuration(devices: 6, mode: .mixed, simulated: 60_000, speedup: nil)
        let link = LinkSettings(tls: .psk, connectionMode: .perBatch, caFile: nil)
        let result = try FleetRunner.run(configuration, options: Self.options(collector, link))
        #expect(result.firstHandshakeFailure == nil)
        for summary in result.summaries {
            let statistics = summary.statistics
            #expect(summary.stoppedBy == nil, "\(summary.deviceID) was refused")
            #expect(statistics.readingsAcked == statistics.readingsGenerated && statistics.readingsAcked > 0)
            #expect(statistics.handshakes.psk == statistics.connections && statistics.handshakes.full == 0)
        }
        let report = Self.report(configuration, result, link,
                                 try collector.settledFigures(authorization: admin).subtracting(before))
        #expect(try #require(report.crossCheck).isConsistent, "\(report.renderTable())")
    }

    @Test func anUntrustedCertificateIsAHandshakeFailureNamedInTheResult() throws {
        let collector = try TLSCollector()
        var options = Self.options(collector, LinkSettings(tls: .token, caFile: "/etc/hostname"))
        options.timeLimitMs = 500
        options.drainMs = 300
        // /etc/hostname holds no certificate: the context cannot be made, and the run says so before starting.
        #expect(throws: RunError.self) {
            _ = try FleetRunner.run(
                FleetDriverTests.configuration(devices: 1, mode: .mixed, simulated: 10_000, speedup: nil),
                options: options)
        }
        // A readable CA that did not sign the collector's certificate: every handshake fails and the result says why.
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("fw-other-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(atPath: other.path + "-cert.pem")
            try? FileManager.default.removeItem(atPath: other.path + "-key.pem")
        }
        try SelfSignedCertificate.create(
            certificateFile: other.path + "-cert.pem", keyFile: other.path + "-key.pem", hostNames: ["127.0.0.1"])
        options.link.caFile = other.path + "-cert.pem"
        let result = try FleetRunner.run(
            FleetDriverTests.configuration(devices: 1, mode: .single(.grpcUnary), simulated: 10_000, speedup: nil),
            options: options)
        #expect(result.summaries.allSatisfy { $0.statistics.readingsAcked == 0 })
        #expect(result.firstHandshakeFailure != nil)
    }
}
