import Dispatch
import Foundation
import Storage
import Telemetry
import Testing

@testable import Collector
@testable import CollectorService

/// Store queries run on the store's read threads, never on an event loop: a slow query leaves its loop free for
/// ingest and other requests, runs below the loops' priority, and too many waiting queries are refused with 503.
@Suite(.serialized) struct QueriesOffTheLoopTests {
    static func get(_ client: RawClient, _ path: String) throws {
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n")
    }

    @Test func aSlowQueryLeavesItsLoopFree() throws {
        var gated: GatedStorage!
        let collector = try TestCollector({ $0.loops = 1 }, wrapStore: { gated = GatedStorage($0); return gated })
        defer { withExtendedLifetime(collector) {} }
        let device = try RawClient(port: collector.port)
        try device.send(HTTP1EndToEndTests.post("q-a", TestBatches.json(1)))
        #expect(try device.readResponse().status == 200)

        let reader = try RawClient(port: collector.port)
        try Self.get(reader, "/v1/devices/q-a/readings")
        #expect(gated.arrived.wait(timeout: .now() + 5) == .success, "the query reached the store")
        // The one loop is free while the query waits: ingest commits and other requests are answered.
        try device.send(HTTP1EndToEndTests.post("q-a", TestBatches.json(2)))
        #expect(try device.readResponse().status == 200)
        try Self.get(device, "/healthz")
        #expect(try device.readResponse(to: "GET").status == 200)
        try Self.get(device, "/v1/devices/q-a")
        #expect(try device.readResponse(to: "GET").status == 200)

        gated.open()
        let response = try reader.readResponse(to: "GET")
        #expect(response.status == 200)
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let rows = body?["readings"] as? [Any] ?? []
        let perBatch = ReadingBatch(TestBatches.batch(1)).readings.count
        #expect(rows.count == 2 * perBatch, "the query ran after the gate opened and saw both batches")
        #expect(gated.readThreadNiceness.withLock { $0 } == [5], "read threads run at nice 5, below the loops")
    }

    @Test func tooManyWaitingQueriesAreRefusedWith503() throws {
        var gated: GatedStorage!
        let collector = try TestCollector(
            { $0.loops = 1 }, store: { $0.readThreads = 1; $0.maxQueuedReads = 1 },
            wrapStore: { gated = GatedStorage($0); return gated })
        defer { withExtendedLifetime(collector) {} }
        let device = try RawClient(port: collector.port)
        try device.send(HTTP1EndToEndTests.post("q-b", TestBatches.json(1)))
        #expect(try device.readResponse().status == 200)

        let running = try RawClient(port: collector.port)
        try Self.get(running, "/v1/devices/q-b/readings")
        #expect(gated.arrived.wait(timeout: .now() + 5) == .success)
        let waiting = try RawClient(port: collector.port)
        try Self.get(waiting, "/v1/devices/q-b/readings")
        Thread.sleep(forTimeInterval: 0.1)  // the second query is queued behind the first (nothing to wait on)
        let refused = try RawClient(port: collector.port)
        try Self.get(refused, "/v1/devices/q-b/readings")
        let refusal = try refused.readResponse(to: "GET")
        #expect(refusal.status == 503)
        #expect(refusal.headers["retry-after"] != nil)
        #expect(String(decoding: refusal.body, as: UTF8.self).contains("queries waiting for a read thread"))

        gated.open(2)
        #expect(try running.readResponse(to: "GET").status == 200)
        #expect(try waiting.readResponse(to: "GET").status == 200)
    }
}
