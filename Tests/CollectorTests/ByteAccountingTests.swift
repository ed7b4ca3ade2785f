import Accounting
import Foundation
import GRPC
import Testing
import Telemetry
@testable import Collector
@testable import CollectorService

/// The byte ledger against what the clients counted on their own sockets: per device and protocol, to the byte,
/// and in total (every socket byte attributed exactly once).
@Suite(.serialized) struct ByteAccountingTests {
    static func row(_ collector: TestCollector, _ wireProtocol: WireProtocol, _ device: String) -> BandwidthCounters {
        collector.server.ledger.snapshot()[BandwidthKey(wireProtocol, device)] ?? BandwidthCounters()
    }

    @Test func restBytesPerDeviceEqualWhatTheClientsCounted() throws {
        let collector = try TestCollector()
        var clients: [(String, RawClient)] = []
        for device in ["a", "b", "c"] {
            let client = try RawClient(port: collector.port)
            for seq in 1...4 {
                try client.send(HTTP1EndToEndTests.post(device, TestBatches.json(UInt64(seq), readings: 5 * seq)))
                #expect(try client.readResponse().status == 200)
            }
            clients.append((device, client))
        }
        for (_, client) in clients { client.close() }
        collector.waitForIdle()
        for (device, client) in clients {
            let row = Self.row(collector, WireProtocol.restJSON, device)
            #expect(row.bytesIn.total == Int64(client.bytesSent), "\(device) in")
            #expect(row.bytesOut.total == Int64(client.bytesReceived), "\(device) out")
            #expect(row.readings == 50 && row.batches == 4 && row.calls == 4 && row.connections == 1)
            #expect(row.bytesIn.payload > row.bytesIn.header)
        }
    }

    @Test func grpcBytesPerDeviceEqualWhatTheClientsCounted() throws {
        let collector = try TestCollector()
        var expectations: [(WireProtocol, String, GRPCTestClient)] = []
        for device in ["s1", "s2"] {
            let client = try GRPCTestClient(port: collector.port)
            for window in 0..<3 {
                let batches = (1...6).map { TestBatches.batch(UInt64(window * 6 + $0), readings: 40) }
                _ = try client.call(.upload, deviceID: device, batches).get()
            }
            expectations.append((WireProtocol.grpcStream, device, client))
        }
        for device in ["u1", "u2"] {
            let client = try GRPCTestClient(port: collector.port)
            for seq in 1...10 { _ = try client.call(.push, deviceID: device, [TestBatches.batch(UInt64(seq), readings: 40)]).get() }
            expectations.append((WireProtocol.grpcUnary, device, client))
        }
        for (_, _, client) in expectations { try client.close() }
        collector.waitForIdle()
        for (protocolName, device, client) in expectations {
            let row = Self.row(collector, protocolName, device)
            #expect(row.bytesIn.total == Int64(client.raw.bytesSent), "\(protocolName) \(device) in")
            #expect(row.bytesOut.total == Int64(client.raw.bytesReceived), "\(protocolName) \(device) out")
            #expect(row.connections == 1)
            // Payload is exactly the protobuf bytes: 5-byte prefixes are framing.
            let batches = protocolName == WireProtocol.grpcStream ? 18 : 10
            #expect(row.batches == Int64(batches) && row.readings == Int64(batches * 40))
        }
        let stream = Self.row(collector, WireProtocol.grpcStream, "s1")
        let expectedPayload = (1...18).reduce(0) { $0 + TestBatches.batch(UInt64($1), readings: 40).protobufSize }
        #expect(stream.bytesIn.payload == Int64(expectedPayload))
    }

    @Test func everySocketByteIsAttributedExactlyOnce() throws {
        let collector = try TestCollector { $0.headerTimeoutMs = 200 }
        // A mix: REST, gRPC (good and refused), h2 REST, garbage, a silent connection, a half request.
        let rest = try RawClient(port: collector.port)
        try rest.send(HTTP1EndToEndTests.post("m", TestBatches.json(1)) + Array("GET /v1/bandwidth HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        _ = try rest.readResponse()
        _ = try rest.readResponse(to: "GET")
        let grpc = try GRPCTestClient(port: collector.port)
        _ = try grpc.call(.upload, deviceID: "m", [TestBatches.batch(2), TestBatches.batch(3)])
        _ = try grpc.call(.push, deviceID: nil, [TestBatches.batch(4)])
        _ = try grpc.call(.push, deviceID: "n", [TestBatches.batch(4)])
        let garbage = try RawClient(port: collector.port)
        try garbage.send("\u{1}\u{2}nonsense\r\n\r\n")
        _ = garbage.waitForClose()
        let silent = try RawClient(port: collector.port)
        let half = try RawClient(port: collector.port)
        try half.send("POST /v1/devices/h/readings HTTP/1.1\r\nHost")
        _ = try half.readResponse()  // 408
        let preface = try RawClient(port: collector.port)
        try preface.send("PRI * HTTP/2.0\r\n")
        _ = silent.waitForClose()
        for client in [rest, garbage, silent, half, preface] { client.close() }
        try grpc.close()
        collector.waitForIdle()
        let rows = collector.server.ledger.snapshot()
        let (socketIn, socketOut) = collector.server.socketTotals()
        let attributedIn = rows.values.reduce(Int64(0)) { $0 + $1.bytesIn.total }
        let attributedOut = rows.values.reduce(Int64(0)) { $0 + $1.bytesOut.total }
        #expect(attributedIn == socketIn)
        #expect(attributedOut == socketOut)
        let clientSent = [rest, garbage, silent, half, preface].reduce(0) { $0 + $1.bytesSent } + grpc.raw.bytesSent
        #expect(socketIn == Int64(clientSent))
        for (key, counters) in rows {
            #expect(counters.bytesIn.header >= 0 && counters.bytesIn.framing >= 0 && counters.bytesIn.payload >= 0, "\(key)")
        }
    }

    @Test func countersSurviveARestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = CollectorConfiguration()
        configuration.listen = "127.0.0.1:0"
        configuration.databasePath = directory.appendingPathComponent("t.db").path
        configuration.loops = 1
        let first = try CollectorServer(sqliteWith: configuration)
        let client = try RawClient(port: first.localAddress.port)
        try client.send(HTTP1EndToEndTests.post("p", TestBatches.json(1)))
        _ = try client.readResponse()
        client.close()
        first.shutdown()
        let before = first.ledger.snapshot()[BandwidthKey(WireProtocol.restJSON, "p")]
        let second = try CollectorServer(sqliteWith: configuration)
        defer { second.shutdown() }
        #expect(before != nil)
        #expect(second.ledger.snapshot()[BandwidthKey(WireProtocol.restJSON, "p")] == before)
    }
}
