// The service layer on its own, with no event loop: what answers at once, what completes later on the store's
// thread, and the figures only the server knows arriving through ServerFigureSource.

import Accounting
import Dispatch
import Foundation
import Storage
import Store
import Synchronization
import Telemetry
import Testing

@testable import CollectorService

@Suite struct RESTServiceTests {
    /// Fixed server figures, as a server layer would report them.
    struct FixedFigures: ServerFigureSource {
        func serverFigures() -> ServerFigures {
            ServerFigures(
                socket: .init(bytesRead: 1234, bytesWritten: 567),
                connectionLimits: .init(
                    openSockets: 3, maxConnections: 7, maxConnectionsPerAddress: 2, refusedOverTotal: 4,
                    refusedOverAddress: 5),
                bufferedRequestBytes: 89, bufferedRequestBytesLimit: 1000)
        }
    }

    /// A service over a store in a fresh directory and `ledger`; `body` runs with it, then the store is closed and removed.
    static func withService(
        ledger: BandwidthLedger = BandwidthLedger(), _ body: (RESTService, TelemetryStore) throws -> Void
    ) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-svc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try TelemetryStore(path: directory.appendingPathComponent("t.db").path)
        defer { store.close() }
        let service = RESTService(
            store: store, ledger: ledger, operations: OperationalCounters(),
            protection: ProtectionCounters(),
            decodeLimits: DecodeLimits(maxMessageBytes: 1 << 20), server: FixedFigures())
        try body(service, store)
    }

    static func request(_ method: String, _ target: String, body: [UInt8] = []) -> (RESTRequest, RoutedRequest) {
        let routed = RoutedRequest(method: method, target: target, isHTTP2: false)
        let request = RESTRequest(
            method: method, path: routed.path, query: routed.query,
            headers: body.isEmpty ? [] : [("content-type", "application/json")], body: body)
        return (request, routed)
    }

    /// Waits (bounded) for the completion of a `.pending` answer.
    final class Completion: Sendable {
        private let answer = Mutex<(RESTResponse, BandwidthCounters)?>(nil)
        private let done = DispatchSemaphore(value: 0)

        var handler: @Sendable (RESTResponse, BandwidthCounters) -> Void {
            { [self] response, counters in
                answer.withLock { $0 = (response, counters) }
                done.signal()
            }
        }

        func wait() -> (RESTResponse, BandwidthCounters)? {
            guard done.wait(timeout: .now() + 10) == .success else { return nil }
            return answer.withLock { $0 }
        }

        var isCalled: Bool { answer.withLock { $0 != nil } }
    }

    @Test(arguments: ["/healthz", "/metrics", "/v1/bandwidth", "/nope"])
    func inMemoryAnswersAndRefusalsComeBackAtOnce(target: String) throws {
        try Self.withService { service, _ in
            let (request, routed) = Self.request("GET", target)
            let completion = Completion()
            guard
                case .response(let response, let counters) = service.handle(
                    request, routed: routed, completion: completion.handler)
            else {
                Issue.record("\(target) did not answer at once")
                return
            }
            #expect(response.status == (target == "/nope" ? 404 : 200))
            #expect(counters.calls == 1 && counters.errors == (target == "/nope" ? 1 : 0))
            #expect(!completion.isCalled)
        }
    }

    @Test func ingestCompletesAfterTheCommit() throws {
        try Self.withService { service, store in
            let batch = ReadingBatch(
                Batch(
                    seq: 1,
                    series: [
                        Series(
                            sensor: "t", exponent: 0, startMs: 1_700_000_000_000, intervalMs: 1000,
                            mantissaDeltas: [1, 1])
                    ]))
            let (request, routed) = Self.request("POST", "/v1/devices/svc/readings", body: batch.jsonBytes())
            let completion = Completion()
            guard case .pending = service.handle(request, routed: routed, completion: completion.handler) else {
                Issue.record("ingest answered before the commit")
                return
            }
            let answer = try #require(completion.wait())
            #expect(answer.0.status == 200)
            #expect(answer.1.batches == 1 && answer.1.readings == 2 && answer.1.calls == 1)
            #expect(try store.device("svc")?.readings == 2, "committed before the answer")
        }
    }

    @Test func storeQueriesRunOnTheStoresReadThreads() throws {
        try Self.withService { service, _ in
            let (request, routed) = Self.request("GET", "/v1/devices")
            let completion = Completion()
            guard case .pending = service.handle(request, routed: routed, completion: completion.handler) else {
                Issue.record("a store query answered on the caller's thread")
                return
            }
            let answer = try #require(completion.wait())
            #expect(answer.0.status == 200)
            #expect(String(decoding: answer.0.body, as: UTF8.self).contains("\"devices\""))
        }
    }

    @Test func theServerFiguresReachMetricsAndTheBandwidthReport() throws {
        try Self.withService { service, _ in
            let (metricsRequest, metricsRouted) = Self.request("GET", "/metrics")
            guard
                case .response(let metrics, _) = service.handle(
                    metricsRequest, routed: metricsRouted, completion: { _, _ in })
            else {
                Issue.record("no synchronous /metrics")
                return
            }
            let text = String(decoding: metrics.body, as: UTF8.self)
            for line in [
                "fleetwire_socket_bytes_total{direction=\"in\"} 1234",
                "fleetwire_socket_bytes_total{direction=\"out\"} 567",
                "fleetwire_open_sockets 3", "fleetwire_connection_limit{scope=\"total\"} 7",
                "fleetwire_connection_limit{scope=\"per_address\"} 2",
                "fleetwire_connections_refused_total{limit=\"total\"} 4",
                "fleetwire_connections_refused_total{limit=\"per_address\"} 5",
                "fleetwire_buffered_request_bytes 89", "fleetwire_buffered_request_bytes_limit 1000",
            ] {
                #expect(text.contains(line + "\n"), "\(line)")
            }
            let (bandwidthRequest, bandwidthRouted) = Self.request("GET", "/v1/bandwidth")
            guard
                case .response(let bandwidth, _) = service.handle(
                    bandwidthRequest, routed: bandwidthRouted, completion: { _, _ in })
            else {
                Issue.record("no synchronous /v1/bandwidth")
                return
            }
            let json = String(decoding: bandwidth.body, as: UTF8.self)
            #expect(json.contains("\"socket_bytes_in\":1234") && json.contains("\"socket_bytes_out\":567"))
        }
    }
}
