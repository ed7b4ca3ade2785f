import Foundation
import Testing
import Collector
import CollectorService
import FleetDriver
import Simulation
import Storage
import Store
import Telemetry

/// device-sim's driver against a real collector on an ephemeral port: what the devices generated is what is
/// stored, exactly once, through every protocol, also across forced disconnects; the report agrees with the
/// collector's counters.
@Suite(.serialized) struct FleetDriverTests {
    /// A collector with a fresh database.
    final class Collector {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-sim-\(UUID().uuidString)")
        let server: CollectorServer
        var target: String { "127.0.0.1:\(server.localAddress.port)" }

        init() throws {
            var configuration = CollectorConfiguration()
            configuration.listen = "127.0.0.1:0"
            configuration.databasePath = directory.appendingPathComponent("t.db").path
            configuration.loops = 2
            let store = try TelemetryStore(path: configuration.databasePath)
            server = try CollectorServer(configuration: configuration, store: store, log: Log(isVerbose: false))
        }

        deinit {
            server.shutdown()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func configuration(devices: Int, mode: ProtocolMode, simulated: Int64, speedup: Double?,
                              streamBatches: Int = 6) -> FleetConfiguration {
        let start: Int64 = 1_795_000_000_000
        let clock = speedup.map { SimulatedClock(start: start, speedup: $0) } ?? .maxRate(start: start)
        let settings = DeviceSettings(sensors: [.temperature, .humidity, .pressure, .battery], intervalMs: 1000,
                                      batchMs: 10_000, clock: clock, durationMs: simulated,
                                      streamBatches: streamBatches,
                                      backoff: BackoffPolicy(initialNs: 20_000_000, maxNs: 200_000_000))
        return FleetConfiguration(seed: 42, deviceCount: devices, protocolMode: mode, settings: settings)
    }

    /// What a device generates, by driving its state machine against an instant, perfect collector.
    static func generatedReadings(_ configuration: FleetConfiguration, device index: Int) -> [Reading] {
        var device = configuration.makeDevice(at: index)
        var now: UInt64 = 1
        var readings: [Reading] = []
        var pending: [DeviceEvent] = [.start]
        var steps = 0
        while let event = pending.first, steps < 1_000_000 {
            pending.removeFirst()
            steps += 1
            for action in device.handle(event, at: now) {
                switch action {
                case .connect: pending.append(.connected)
                case .sendOnStream(let batch), .push(let batch):
                    readings += ReadingBatch(batch).readings
                    if case .push = action { pending.append(.acked(Ack(batches: 1), covering: batch.seq...batch.seq, latencyNs: 1)) }
                    if device.deviceProtocol == .grpcSync { pending.append(.streamAcked(Ack(batches: 1), latenciesNs: [1])) }
                case .post(let batch):
                    readings += batch.readings
                    pending.append(.acked(Ack(batches: 1), covering: batch.seq...batch.seq, latencyNs: 1))
                case .halfCloseStream(let seqs):
                    pending.append(.acked(Ack(batches: UInt64(seqs.count)), covering: seqs, latencyNs: 1))
                case .scheduleWake(let at):
                    now = max(now, at)
                    pending.append(.tick)
                case .halfCloseSyncStream: pending.append(.streamEnded)
                case .openUploadStream, .openSyncStream, .disconnect, .finished: break
                }
            }
        }
        return readings
    }

    static func stored(_ server: CollectorServer, _ deviceID: String) throws -> [Reading] {
        var all: [Reading] = []
        var cursor: ReadingCursor?
        repeat {
            let page = try server.store.readings(
                deviceID: deviceID, sensor: nil, fromMs: nil, toMs: nil, limit: 10_000, order: .ascending, after: cursor)
            all += page.readings
            cursor = page.nextCursor
        } while cursor != nil
        return all
    }

    static func sorted(_ readings: [Reading]) -> [Reading] {
        readings.sorted { ($0.ts, $0.sensor) < ($1.ts, $1.sensor) }
    }

    @Test(arguments: [ProtocolMode.single(.grpcStream), .single(.grpcUnary), .single(.rest), .mixed])
    func everyGeneratedReadingIsStoredExactlyWithItsValueAndTime(mode: ProtocolMode) throws {
        let collector = try Collector()
        let configuration = Self.configuration(devices: 6, mode: mode, simulated: 3 * 60_000, speedup: nil)
        let result = try FleetRunner.run(configuration, options: RunOptions(target: collector.target, loops: 2))
        #expect(result.summaries.count == 6)
        for index in 0..<6 {
            let id = configuration.deviceID(at: index)
            let expected = Self.sorted(Self.generatedReadings(configuration, device: index))
            // Devices start at a random phase within their first batch period, so slightly under 3 min each.
            #expect(expected.count > (3 * 60 - 10) * 4 && expected.count <= 3 * 60 * 4)
            #expect(try Self.stored(collector.server, id) == expected, "\(id)")
        }
        for summary in result.summaries {
            #expect(summary.statistics.readingsAcked == summary.statistics.readingsGenerated)
        }
    }

    @Test func forcedDisconnectsLoseNothingAndStoreNothingTwice() throws {
        let collector = try Collector()
        // Paced: about 3 s of real time, with the collector dropping every connection twice along the way.
        let configuration = Self.configuration(devices: 9, mode: .mixed, simulated: 10 * 60_000, speedup: 200,
                                               streamBatches: 20)
        let server = collector.server
        let dropper = Thread {
            for _ in 0..<2 {
                Thread.sleep(forTimeInterval: 1.0)
                server.dropAllConnections()
            }
        }
        dropper.start()
        let result = try FleetRunner.run(configuration, options: RunOptions(target: collector.target, loops: 2))
        for index in 0..<9 {
            let id = configuration.deviceID(at: index)
            let stored = try Self.stored(collector.server, id)
            #expect(stored == Self.sorted(Self.generatedReadings(configuration, device: index)), "\(id)")
        }
        let reconnects = result.summaries.reduce(0) { $0 + $1.statistics.connections }
        #expect(reconnects > 9, "the drops forced reconnects")
        #expect(result.summaries.allSatisfy { $0.statistics.readingsAcked <= $0.statistics.readingsGenerated })
    }

    @Test func reportAgreesWithTheCollectorToTheByte() throws {
        let collector = try Collector()
        let before = try CollectorClient.figures(collector.target)
        let configuration = Self.configuration(devices: 12, mode: .mixed, simulated: 5 * 60_000, speedup: nil)
        let result = try FleetRunner.run(configuration, options: RunOptions(target: collector.target, loops: 2))
        // The collector books a connection's last bytes when it closes.
        let deadline = Date().addingTimeInterval(5)
        while collector.server.openConnections() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let after = try CollectorClient.figures(collector.target)
        let report = FleetReport.make(
            run: RunDescription(configuration: configuration, elapsedNs: result.elapsedNs, simulatedMs: nil),
            devices: result.summaries, latencies: result.latencies, collector: after.subtracting(before))
        let check = try #require(report.crossCheck)
        #expect(check.isConsistent, "\(report.renderTable())")
        let totals = collector.server.ledger.perProtocol()
        for summary in report.protocols {
            let row = totals[summary.deviceProtocol.collectorName]
            #expect(row?.readings == summary.statistics.readingsAcked)
        }
        #expect(report.renderTable().contains("agree to the byte"))
    }

    @Test func unreachableCollectorIsAClearFailure() throws {
        #expect(throws: (any Error).self) { try CollectorClient.get("127.0.0.1:1", "/healthz", timeoutSeconds: 1) }
        // Devices against a closed port keep retrying and deliver nothing; the run ends at its time limit.
        var options = RunOptions(target: "127.0.0.1:1", loops: 1)
        options.timeLimitMs = 500
        options.drainMs = 300
        let configuration = Self.configuration(devices: 2, mode: .mixed, simulated: 60_000, speedup: nil)
        let result = try FleetRunner.run(configuration, options: options)
        #expect(result.summaries.allSatisfy { $0.statistics.readingsAcked == 0 })
        #expect(result.summaries.contains { $0.statistics.errors.total > 0 })
    }
}
