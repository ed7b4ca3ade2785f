// The TLS and TCP segment counters of a bandwidth row reach every place that reports or persists it: the three
// `/v1/bandwidth` reports (JSON and CSV), `/metrics`, and the store (so a restarted collector reports the same
// totals). One row with every counter nonzero and distinct, so a field wired to the wrong counter shows.

import Accounting
import Foundation
import Storage
import Store
import Testing

@testable import CollectorService

@Suite struct BandwidthReportTests {
    /// A TLS gRPC row: every part and count distinct.
    static let row: BandwidthCounters = {
        var counters = BandwidthCounters(
            bytesIn: Traffic(header: 100, framing: 20, payload: 3_000, tlsHandshake: 517, tlsRecord: 44),
            bytesOut: Traffic(header: 60, framing: 10, payload: 40, tlsHandshake: 3_200, tlsRecord: 66))
        counters.readings = 50
        counters.batches = 2
        counters.calls = 1
        counters.connections = 1
        counters.segmentsIn = 9
        counters.segmentsOut = 7
        return counters
    }()
    static let key = BandwidthKey(.grpcStream, "dev-tls")

    /// The new fields and the values `row` must show in them.
    static let expected: [(String, Int64)] = [
        ("tls_handshake_bytes_in", 517), ("tls_handshake_bytes_out", 3_200), ("tls_record_bytes_in", 44),
        ("tls_record_bytes_out", 66), ("segments_in", 9), ("segments_out", 7),
        // 3681 in + 3376 out + 52 × 16 segments.
        ("estimated_link_bytes", 3_681 + 3_376 + 52 * 16),
        ("bytes_in", 3_681), ("bytes_out", 3_376),
    ]

    static func ledger() -> BandwidthLedger {
        let ledger = BandwidthLedger()
        ledger.add(key, row)
        return ledger
    }

    static func get(_ service: RESTService, _ target: String) -> RESTResponse? {
        let (request, routed) = RESTServiceTests.request("GET", target)
        guard case .response(let response, _) = service.handle(request, routed: routed, completion: { _, _ in })
        else { return nil }
        return response
    }

    static func rows(_ response: RESTResponse?, _ list: String) throws -> [[String: Any]] {
        let body = try #require(response?.body)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        return try #require(object[list] as? [[String: Any]])
    }

    @Test func theEstimateIsSocketBytesPlus52PerSegment() {
        #expect(Self.row.estimatedLinkBytes == 7_889)
        #expect(BandwidthCounters.estimatedHeaderBytesPerSegment == 52)
    }

    @Test(arguments: [
        ("/v1/bandwidth", "protocols"), ("/v1/bandwidth/devices", "devices"),
        ("/v1/bandwidth/devices/dev-tls", "protocols"),
    ])
    func everyReportRowCarriesTheTLSAndSegmentFields(target: String, list: String) throws {
        try RESTServiceTests.withService(ledger: Self.ledger()) { service, _ in
            let response = Self.get(service, target)
            #expect(response?.status == 200)
            let rows = try Self.rows(response, list)
            let row = try #require(rows.first { $0["protocol"] as? String == "grpc-stream" })
            for (field, value) in Self.expected {
                #expect((row[field] as? NSNumber)?.int64Value == value, "\(target) \(field)")
            }
            #expect((row["bytes_per_reading"] as? NSNumber)?.doubleValue == 7_057.0 / 50)
            #expect((row["estimated_link_bytes_per_reading"] as? NSNumber)?.doubleValue == 7_889.0 / 50)
        }
    }

    @Test func rowsWithoutReadingsHaveNoEstimatePerReading() throws {
        let ledger = BandwidthLedger()
        var handshakeOnly = BandwidthCounters(bytesIn: Traffic(tlsHandshake: 300), bytesOut: Traffic(tlsRecord: 7))
        handshakeOnly.segmentsIn = 3
        ledger.add(.overhead(.tls), handshakeOnly)
        try RESTServiceTests.withService(ledger: ledger) { service, _ in
            let rows = try Self.rows(Self.get(service, "/v1/bandwidth"), "protocols")
            let row = try #require(rows.first { $0["protocol"] as? String == "tls" })
            #expect(row["estimated_link_bytes_per_reading"] is NSNull)
            let estimate = (row["estimated_link_bytes"] as? NSNumber)?.int64Value
            #expect(estimate == Int64(307 + 3 * 52))
        }
    }

    @Test func csvHasTheNewColumnsAfterTheOldOnes() throws {
        try RESTServiceTests.withService(ledger: Self.ledger()) { service, _ in
            let response = try #require(Self.get(service, "/v1/bandwidth/devices?format=csv"))
            let lines = String(decoding: response.body, as: UTF8.self).split(whereSeparator: \.isNewline)
            let header = lines[0].split(separator: ",").map(String.init)
            #expect(
                Array(header.suffix(8)) == [
                    "tls_handshake_bytes_in", "tls_handshake_bytes_out", "tls_record_bytes_in",
                    "tls_record_bytes_out", "segments_in", "segments_out", "estimated_link_bytes",
                    "estimated_link_bytes_per_reading",
                ])
            #expect(header.prefix(3) == ["device", "protocol", "bytes_in"])
            let values = lines[1].split(separator: ",").map(String.init)
            #expect(Array(values.suffix(8).prefix(7)) == ["517", "3200", "44", "66", "9", "7", "7889"])
        }
    }

    @Test func metricsHaveTLSBytesAndSegmentsPerProtocolAndDirection() throws {
        try RESTServiceTests.withService(ledger: Self.ledger()) { service, _ in
            let text = String(decoding: try #require(Self.get(service, "/metrics")).body, as: UTF8.self)
            for line in [
                #"fleetwire_bytes_total{protocol="grpc-stream",direction="in"} 3681"#,
                #"fleetwire_tls_handshake_bytes_total{protocol="grpc-stream",direction="in"} 517"#,
                #"fleetwire_tls_handshake_bytes_total{protocol="grpc-stream",direction="out"} 3200"#,
                #"fleetwire_tls_record_bytes_total{protocol="grpc-stream",direction="in"} 44"#,
                #"fleetwire_tls_record_bytes_total{protocol="grpc-stream",direction="out"} 66"#,
                #"fleetwire_segments_total{protocol="grpc-stream",direction="in"} 9"#,
                #"fleetwire_segments_total{protocol="grpc-stream",direction="out"} 7"#,
                #"fleetwire_estimated_link_bytes_total{protocol="grpc-stream"} 7889"#,
                "# TYPE fleetwire_segments_total counter",
            ] {
                #expect(text.contains(line + "\n"), "\(line)")
            }
        }
    }

    @Test func aRowSurvivesTheStoreUnchanged() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-bw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.db").path
        do {
            let store = try TelemetryStore(path: path)
            // Persisted in two flushes, as a running collector would.
            try await store.addCounters([Self.row.delta(for: Self.key)], atMs: 1_000)
            try await store.addCounters([Self.row.delta(for: Self.key)], atMs: 3_000)
            store.close()
        }
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        let rows = try store.counters()
        #expect(rows.count == 1)
        var twice = Self.row
        twice += Self.row
        let reloaded = BandwidthCounters(try #require(rows.first).totals)
        #expect(reloaded == twice)
        #expect(reloaded.estimatedLinkBytes == 2 * 7_889)
        #expect(rows.first?.totals.bytesIn == 2 * 3_681)
    }
}
