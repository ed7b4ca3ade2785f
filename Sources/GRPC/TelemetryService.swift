import Telemetry

/// The server side of `telemetry.v1.Telemetry`: which handler serves which method path. A new RPC kind is one
/// `register` call here (plus its handler), and every transport serves it.
public enum TelemetryService {
    /// A router with `Upload`, `Push` and `Sync`, whose calls decode batches within `limits`.
    public static func makeRouter(limits: DecodeLimits = .standard) -> GRPCRouter<any TelemetryServerHandler> {
        var router = GRPCRouter<any TelemetryServerHandler>()
        for method in [TelemetryMethod.upload, .push, .sync] {
            router.register(method.rawValue) { head, timeoutNanoseconds throws(GRPCStatus) in
                let validated = try TelemetryRequestHead(
                    method: method, validating: head,
                    timeoutNanoseconds: timeoutNanoseconds)
                return TelemetryCallHandler(head: validated, limits: limits)
            }
        }
        router.servedElsewhere = [WatchServerCall.path]
        return router
    }
}
