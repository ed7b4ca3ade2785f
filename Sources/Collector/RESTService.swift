// REST request handling shared by HTTP/1.1 connections and h2c streams. Routing happens as soon as the request
// head is known (so the transport can refuse early and knows which bandwidth row the request's bytes belong to);
// the response comes through a callback on the connection's loop: after the commit for ingest, after the store's
// read threads ran the query for reads (a query never runs on a loop thread).

import Accounting
import EventIO
import Storage
import Telemetry

/// Serves routed REST requests.
struct RESTService: Sendable {
    let context: CollectorContext

    /// Answers `request`; `respond` runs on `loop` (at once, or after the commit for ingest) with the response and
    /// the non-byte counters for the request's bandwidth row.
    func handle(_ request: RESTRequest, routed: RoutedRequest, on loop: EventLoop,
                respond: @escaping (RESTResponse, BandwidthCounters) -> Void) {
        var counters = BandwidthCounters()
        counters.calls = 1
        let route: RESTRoute
        switch routed.route {
        case .failure(let error):
            counters.errors = 1
            respond(error.response, counters)
            return
        case .success(let matched):
            route = matched
        }
        switch route {
        case .health:
            respond(.json(200, Array(#"{"status":"ok"}"#.utf8)), counters)
        case .dashboard:
            respond(DashboardPage.response, counters)
        case .ingest(let deviceID):
            ingest(request, deviceID: deviceID, counters: counters, on: loop, respond: respond)
        case _ where route.isStoreQuery:
            // Store queries run on the store's read threads, never on the loop (see TelemetryStorage.swift).
            let service = self
            context.read(on: loop, { () -> Result<RESTResponse, RESTError> in
                do throws(RESTError) {
                    return .success(try service.read(route, request))
                } catch {
                    return .failure(error)
                }
            }) { result in
                switch result {
                case .success(.success(let response)):
                    respond(response, counters)
                case .success(.failure(let error)):
                    counters.errors = 1
                    respond(error.response, counters)
                case .failure(let error):
                    counters.errors = 1
                    respond(error.restError.response, counters)
                }
            }
        default:
            // In-memory views (the ledger, the store's health and metrics): cheap, and they answer even while the
            // store is closing.
            do {
                respond(try read(route, request), counters)
            } catch {
                counters.errors = 1
                respond(error.response, counters)
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
                context.ledger, socket: context.transportTotals, format: try ResponseFormat(request))
        case .bandwidthDevices: try BandwidthReport.perDevice(context.ledger, request)
        case .bandwidthDevice(let id): try BandwidthReport.device(context.ledger, id)
        case .bandwidthHistory:
            try BandwidthReport.history(context.store, request,
                                        baseBucketMs: context.store.historyBucketMs)
        case .ready: try readiness()
        case .metrics: metrics()
        case .health, .ingest, .dashboard: throw .notFound("no endpoint at \(request.path)")
        }
    }

    private func ingest(_ request: RESTRequest, deviceID: String, counters: BandwidthCounters, on loop: EventLoop,
                        respond: @escaping (RESTResponse, BandwidthCounters) -> Void) {
        var counters = counters
        let batch: ReadingBatch
        do {
            batch = try RESTIngest.batch(from: request, limits: context.configuration.decodeLimits)
        } catch {
            counters.errors = 1
            respond(error.response, counters)
            return
        }
        do {
            try context.submit(deviceID: deviceID, batch: batch, on: loop) { result in
                switch result {
                case .success(let outcome):
                    counters += outcome.counters
                    respond(RESTIngest.response(outcome.ack), counters)
                case .failure(let error):
                    counters.batches = 1
                    counters.errors = 1
                    respond(error.restError.response, counters)
                }
            }
        } catch {
            counters.batches = 1
            counters.errors = 1
            respond(error.restError.response, counters)
        }
    }
}

extension RESTRoute {
    /// True for the endpoints that query the store: they run on the store's read threads, never on a loop.
    var isStoreQuery: Bool {
        switch self {
        case .devices, .device, .readings, .series, .bandwidthHistory: true
        default: false
        }
    }
}
