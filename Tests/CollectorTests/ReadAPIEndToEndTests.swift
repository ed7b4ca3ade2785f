import Foundation
import Testing
import Telemetry
@testable import Collector
@testable import CollectorService

/// The read API over HTTP/1.1: paging, times, errors naming parameters, CSV, bandwidth views, metrics, readiness.
@Suite(.serialized) struct ReadAPIEndToEndTests {
    static func get(_ client: RawClient, _ path: String, accept: String? = nil) throws -> (Int, [UInt8], String) {
        let acceptLine = accept.map { "Accept: \($0)\r\n" } ?? ""
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\(acceptLine)\r\n")
        let response = try client.readResponse(to: "GET")
        return (response.status, response.body, response.headers["content-type"] ?? "")
    }

    /// A collector holding 3 devices × 5 batches of 10 readings (REST), counters flushed.
    static func populated(_ configure: (inout CollectorConfiguration) -> Void = { _ in }) throws
        -> (TestCollector, RawClient)
    {
        let collector = try TestCollector {
            $0.counterFlushMs = 100
            configure(&$0)
        }
        let client = try RawClient(port: collector.port)
        for device in ["r-a", "r-b", "r-c"] {
            for seq in 1...5 {
                try client.send(HTTP1EndToEndTests.post(device, TestBatches.json(UInt64(seq))))
                #expect(try client.readResponse().status == 200)
            }
        }
        return (collector, client)
    }

    @Test func readingsPageWithCursorsInBothOrders() throws {
        let (collector, client) = try Self.populated()
        defer { withExtendedLifetime(collector) {} }
        let expected = (1...5).flatMap { ReadingBatch(TestBatches.batch(UInt64($0))).readings }.map(\.ts)
        for order in ["asc", "desc"] {
            var collected: [Int64] = []
            var cursor: String?
            repeat {
                let path = "/v1/devices/r-a/readings?limit=7&order=\(order)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let (status, body, _) = try Self.get(client, path)
                #expect(status == 200)
                let page = try JSONValue.parse(body)
                collected += page["readings"]!.arrayValue!.map { $0["ts"]!.int64Value! }
                cursor = page["next_cursor"]?.stringValue
            } while cursor != nil
            #expect(collected == (order == "asc" ? expected : expected.reversed()))
        }
        let start = expected[10]
        let iso = try Self.get(client, "/v1/devices/r-a/readings?from=\(RFC3339Text.format(start))&limit=1")
        #expect(try JSONValue.parse(iso.1)["readings"]?[0]?["ts"]?.int64Value == start)
    }

    @Test(arguments: [
        ("/v1/devices/r-a/readings?limit=0", 400, "limit"),
        ("/v1/devices/r-a/readings?from=yesterday", 400, "from"),
        ("/v1/devices/r-a/readings?order=sideways", 400, "order"),
        ("/v1/devices/r-a/readings?cursor=nonsense", 400, "cursor"),
        ("/v1/devices/r-a/readings?sensor=Temp", 400, "sensor"),
        ("/v1/devices/r-a/series", 400, "sensor"),
        ("/v1/devices/r-a/series?sensor=temperature&agg=median", 400, "agg"),
        ("/v1/devices/r-a/series?sensor=temperature&step=0", 400, "step"),
        ("/v1/bandwidth/devices?sort=color", 400, "sort"),
        ("/v1/bandwidth/history?step=15s", 400, "step"),
        ("/v1/bandwidth?format=xml", 400, "format"),
        ("/v1/devices/nobody/readings", 404, "nobody"),
        ("/v1/devices/nobody", 404, "nobody"),
        ("/v1/bandwidth/devices/nobody", 404, "nobody"),
    ])
    func badParametersAreNamed(path: String, status: Int, names: String) throws {
        let (collector, client) = try Self.populated()
        defer { withExtendedLifetime(collector) {} }
        let (code, body, type) = try Self.get(client, path)
        #expect(code == status)
        #expect(type == "application/json")
        #expect(try JSONValue.parse(body)["message"]?.stringValue?.contains(names) == true,
                "\(String(decoding: body, as: UTF8.self))")
    }

    @Test func seriesAndDeviceViews() throws {
        let (collector, client) = try Self.populated()
        defer { withExtendedLifetime(collector) {} }
        let (status, body, _) = try Self.get(client, "/v1/devices/r-b/series?sensor=temperature&step=1h&agg=count")
        #expect(status == 200)
        let buckets = try JSONValue.parse(body)["buckets"]!.arrayValue!
        #expect(buckets.reduce(0) { $0 + $1["count"]!.int64Value! } == 50)
        let device = try JSONValue.parse(Self.get(client, "/v1/devices/r-b").1)
        #expect(device["readings"]?.int64Value == 50)
        #expect(device["protocols"]?.arrayValue == [.string("rest-json")])
        #expect((device["bytes_in"]?.int64Value ?? 0) > 2000)
        #expect(device["sensors"]?[0]?["latest"]?["value"]?.doubleValue
                == ReadingBatch(TestBatches.batch(5)).readings.last?.value)
    }

    @Test func listsAnswerCSV() throws {
        let (collector, client) = try Self.populated()
        defer { withExtendedLifetime(collector) {} }
        let (status, body, type) = try Self.get(client, "/v1/devices?format=csv")
        #expect(status == 200 && type.hasPrefix("text/csv"))
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\r\n")
        #expect(lines.first == "device,first_seen_ms,last_seen_ms,readings,batches,last_seq,sensors,protocols,bytes_in,bytes_out")
        #expect(lines.count == 4 && lines[1].hasPrefix("r-a,") && lines[1].contains(",50,5,5,temperature,rest-json,"))
        let readings = try Self.get(client, "/v1/devices/r-a/readings?limit=2", accept: "text/csv")
        #expect(String(decoding: readings.1, as: UTF8.self).hasPrefix("sensor,ts,value\r\ntemperature,"))
        for path in ["/v1/bandwidth", "/v1/bandwidth/devices", "/v1/bandwidth/history",
                     "/v1/devices/r-a/series?sensor=temperature"] {
            let (code, _, csvType) = try Self.get(client, path + (path.contains("?") ? "&" : "?") + "format=csv")
            #expect(code == 200 && csvType.hasPrefix("text/csv"), "\(path)")
        }
    }

    @Test func bandwidthViewsSortLimitAndHistory() throws {
        let (collector, client) = try Self.populated()
        let sorted = try JSONValue.parse(Self.get(client, "/v1/bandwidth/devices?sort=device&order=desc&limit=2").1)
        #expect(sorted["devices"]?.arrayValue?.map { $0["device"]!.stringValue! } == ["r-c", "r-b"])
        let one = try JSONValue.parse(Self.get(client, "/v1/bandwidth/devices/r-a").1)
        #expect(one["protocols"]?[0]?["protocol"]?.stringValue == "rest-json")
        #expect(one["protocols"]?[0]?["readings"]?.int64Value == 50)
        // History is persisted by the counter flush (every 100 ms here).
        var total: Int64 = 0
        for _ in 0..<50 where total < 150 {
            Thread.sleep(forTimeInterval: 0.05)
            let history = try JSONValue.parse(Self.get(client, "/v1/bandwidth/history?step=10s").1)
            total = history["buckets"]?.arrayValue?.filter { $0["protocol"]?.stringValue == "rest-json" }
                .reduce(0) { $0 + $1["readings"]!.int64Value! } ?? 0
        }
        #expect(total == 150)
        withExtendedLifetime(collector) {}
    }

    @Test func metricsAndReadiness() throws {
        let (collector, client) = try Self.populated()
        let (status, body, type) = try Self.get(client, "/metrics")
        #expect(status == 200 && type.hasPrefix("text/plain; version=0.0.4"))
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("fleetwire_readings_total{protocol=\"rest-json\"} 150\n"))
        #expect(text.contains("fleetwire_open_connections{protocol=\"rest-json\"} 1\n"))
        #expect(text.contains("# TYPE fleetwire_store_commit_duration_seconds histogram"))
        #expect(text.contains("fleetwire_store_commit_duration_seconds_bucket{le=\"+Inf\"}"))
        #expect(text.contains("# TYPE fleetwire_store_batch_latency_seconds histogram"))
        #expect(text.contains("fleetwire_store_batch_latency_seconds_count 15\n"), "one observation per batch posted")
        #expect(text.contains("fleetwire_process_resident_memory_bytes "))
        _ = try Self.get(client, "/nope")
        #expect(String(decoding: try Self.get(client, "/metrics").1, as: UTF8.self)
                    .contains("fleetwire_errors_total{transport=\"http\",code=\"404\"} 1\n"))
        #expect(try Self.get(client, "/readyz").0 == 200)
        collector.server.store.close()
        let (notReady, reason, _) = try Self.get(client, "/readyz")
        #expect(notReady == 503)
        #expect(String(decoding: reason, as: UTF8.self).contains("the store is closed"))
    }
}

/// RFC 3339 text for a Unix ms time (UTC), for tests.
enum RFC3339Text {
    static func format(_ ms: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Inputs that once crashed the collector (found by schemathesis): each must get an answer, and the collector must
/// keep serving.
@Suite(.serialized) struct HostileQueryTests {
    @Test(arguments: [
        ("/v1/devices/r-a/series?sensor=temperature&from=-1&to=9223372036854775807", 400),
        ("/v1/devices/r-a/series?sensor=temperature&from=-9223372036854775808&to=9223372036854775807&step=1", 400),
        ("/v1/devices/r-a/series?sensor=temperature&from=0367-04-13T20:24:47-14:41&to=9223372036854775807", 400),
        ("/v1/bandwidth/history?from=-9223372036854775808&to=9223372036854775807", 400),
        ("/v1/devices/r-a/readings?from=2024-11-21T12:00:00.1234Z", 200),
        ("/v1/devices/r-a/series?sensor=temperature&from=2024-11-21T12:00:00.123456789Z", 200),
        ("/v1/devices/r-a/readings?from=-9223372036854775808&to=-9223372036854775808", 200),
        ("/v1/devices/r-a/readings?to=9223372036854775807&order=desc", 200),
    ])
    func extremeRangesAndLongFractionsAreAnswered(path: String, status: Int) throws {
        let (collector, client) = try ReadAPIEndToEndTests.populated()
        defer { withExtendedLifetime(collector) {} }
        #expect(try ReadAPIEndToEndTests.get(client, path).0 == status)
        #expect(try ReadAPIEndToEndTests.get(client, "/healthz").0 == 200)
    }

    @Test func rfc3339KeepsMillisecondsOfAnyFraction() {
        #expect(RFC3339.milliseconds("1970-01-01T00:00:01.1234Z") == 1123)
        #expect(RFC3339.milliseconds("1970-01-01T00:00:01.5Z") == 1500)
        #expect(RFC3339.milliseconds("1970-01-01T01:00:00+01:00") == 0)
        #expect(RFC3339.milliseconds("1970-01-01T00:00:00.Z") == nil)
        #expect(RFC3339.milliseconds("2026-11-21T12:00:00Z") == 1_795_262_400_000)
    }
}
