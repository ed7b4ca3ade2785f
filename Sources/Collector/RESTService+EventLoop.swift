// The server layer's side of the loop-free RESTService: a connection on an event loop gets its answer on that loop.

import Accounting
import CollectorService
import EventIO

extension RESTService {
    /// Answers `request` for a connection on `loop`: `respond` runs on the loop, at once when the service answers
    /// synchronously (no extra hop), or after one `loop.execute` hop when the store finished the work on its own
    /// thread (ingest after the commit, a query on a read thread).
    func handle(
        _ request: RESTRequest, routed: RoutedRequest, on loop: EventLoop,
        respond: @escaping (RESTResponse, BandwidthCounters) -> Void
    ) {
        let bound = LoopBound(respond, on: loop)
        let outcome = handle(request, routed: routed) { response, counters in
            loop.execute { bound.value(response, counters) }
        }
        if case .response(let response, let counters) = outcome { respond(response, counters) }
    }
}
