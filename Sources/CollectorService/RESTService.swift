// REST request handling shared by HTTP/1.1 connections and h2c streams, with no event loop in it. Routing happens
// as soon as the request head is known (RoutedRequest, so the transport can refuse early and knows which bandwidth
// row the request's bytes belong to); `handle` then answers the complete request.
//
// Threads: `handle` runs on the caller's thread (a loop thread). What can be answered there is returned at once
// (`RESTOutcome.response`), with no hop: health, the dashboard, every refusal, and the in-memory views (the ledger,
// the store's health and metrics), which are cheap and answer even while the store is closing. Two kinds of work
// never run on the caller's thread: ingest answers after the store's writer committed the batch, and store queries
// run on the store's read threads (`TelemetryStorage.performRead`), so a 10,000-row page never stalls a loop. For
// those `handle` returns `.pending` and the completion runs once, later, on the thread that finished the work; the
// server layer hops back to the connection's loop.

import Accounting
import Storage
import Telemetry

/// Serves routed REST requests (see the file comment): the REST API's one implementation, for every transport.
package struct RESTService: Sendable {
    /// Where readings are written and queried.
    package let store: any TelemetryStorage
    /// The bandwidth rows the reports read.
    package let ledger: BandwidthLedger
    /// Errors and open connections, for `/metrics`.
    package let operations: OperationalCounters
    /// Timeouts and floods, for `/metrics`.
    package let protection: ProtectionCounters
    /// Limits on decoding an ingest body.
    package let decodeLimits: DecodeLimits
    /// What only the server knows (socket totals, connection limits, request buffers), for the reports.
    package let server: any ServerFigureSource

    /// A service over the collector's shared state; one serves every connection of every loop.
    package init(
        store: any TelemetryStorage, ledger: BandwidthLedger, operations: OperationalCounters,
        protection: ProtectionCounters, decodeLimits: DecodeLimits, server: any ServerFigureSource
    ) {
        self.store = store
        self.ledger = ledger
        self.operations = operations
        self.protection = protection
        self.decodeLimits = decodeLimits
        self.server = server
    }

    /// Answers `request`. Returns `.response` with the response and the non-byte counters for the request's
    /// bandwidth row when the answer is ready now (`completion` is then never called); returns `.pending` when the
    /// store finishes the work, and `completion` then runs exactly once, on the store's thread.
    package func handle(
        _ request: RESTRequest, routed: RoutedRequest,
        completion: @escaping @Sendable (RESTResponse, BandwidthCounters) -> Void
    ) -> RESTOutcome {
        var counters = BandwidthCounters()
        counters.calls = 1
        let route: RESTRoute
        switch routed.route {
        case .failure(let error):
            counters.errors = 1
            return .response(error.response, counters)
        case .success(let matched):
            route = matched
        }
        switch route {
        case .health:
            return .response(.json(200, Array(#"{"status":"ok"}"#.utf8)), counters)
        case .dashboard:
            return .response(DashboardPage.response, counters)
        case .ingest(let deviceID):
            return ingest(request, deviceID: deviceID, counters: counters, completion: completion)
        case _ where route.isStoreQuery:
            // Store queries run on the store's read threads, never on the caller's (see TelemetryStorage.swift).
            let service = self
            let requestCounters = counters
            do throws(StoreError) {
                try store.performRead {
                    var counters = requestCounters
                    do throws(RESTError) {
                        completion(try service.read(route, request), counters)
                    } catch {
                        counters.errors = 1
                        completion(error.response, counters)
                    }
                }
                return .pending
            } catch {
                // Refused (too many queries waiting, closed): answered at once.
                counters.errors = 1
                return .response(error.restError.response, counters)
            }
        default:
            // In-memory views (the ledger, the store's health and metrics): cheap, and they answer even while the
            // store is closing.
            do throws(RESTError) {
                return .response(try read(route, request), counters)
            } catch {
                counters.errors = 1
                return .response(error.response, counters)
            }
        }
    }

    private func read(_ route: RESTRoute, _ request: RESTRequest) throws(RESTError) -> RESTResponse {
        switch route {
        case .devices: try devices(request)
        case .device(let id): try device(id)
        case .readings(let id): try readings(request, deviceID: id)
        case .series(let id): try series(request, deviceID: id)
        case .bandwidth:
            BandwidthReport.perProtocol(
                ledger, socket: server.serverFigures().socket, format: try ResponseFormat(request),
                collector: store.sharedCollectorName)
        case .bandwidthDevices: try BandwidthReport.perDevice(ledger, request)
        case .bandwidthDevice(let id): try BandwidthReport.device(ledger, id)
        case .bandwidthHistory: try BandwidthReport.history(store, request, baseBucketMs: store.historyBucketMs)
        case .ready: try readiness()
        case .metrics: metrics()
        case .health, .ingest, .dashboard: throw .notFound("no endpoint at \(request.path)")
        }
    }

    /// Decodes the batch and submits it; the answer comes after the commit, or at once when the body is refused
    /// or the store refuses the batch (overloaded, closed: nothing was queued).
    private func ingest(
        _ request: RESTRequest, deviceID: String, counters: BandwidthCounters,
        completion: @escaping @Sendable (RESTResponse, BandwidthCounters) -> Void
    ) -> RESTOutcome {
        var counters = counters
        let batch: ReadingBatch
        do throws(RESTError) {
            batch = try RESTIngest.batch(from: request, limits: decodeLimits)
        } catch {
            counters.errors = 1
            return .response(error.response, counters)
        }
        let requestCounters = counters
        do throws(StoreError) {
            try store.submit(deviceID: deviceID, batch: batch) { result in
                var counters = requestCounters
                switch result {
                case .success(let outcome):
                    counters += outcome.counters
                    completion(RESTIngest.response(outcome.ack), counters)
                case .failure(let error):
                    counters.batches = 1
                    counters.errors = 1
                    completion(error.restError.response, counters)
                }
            }
            return .pending
        } catch {
            counters.batches = 1
            counters.errors = 1
            return .response(error.restError.response, counters)
        }
    }
}
