/// The standard gRPC services the collector serves beside Telemetry, so that the ecosystem's tools work against it:
/// `grpc.health.v1.Health` (grpc_health_probe, Kubernetes gRPC probes, client-side health checking) and server
/// reflection v1 and v1alpha (grpcurl, grpc_cli, Postman). Their calls have no device and need no credentials, so
/// they have a router of their own and never meet the Telemetry calls' device and store policy.
public enum StandardServices {
    /// True for a path the standard services' router answers (a method it lacks is UNIMPLEMENTED there).
    public static func handles(path: String) -> Bool {
        path.hasPrefix(HealthCallHandler.servicePathPrefix)
            || path.hasPrefix(ServerReflectionCallHandler.servicePathPrefix)
    }

    /// A router with Health's methods, whose statuses follow `isServing`, and reflection answering from `index`.
    public static func makeRouter(
        isServing: @escaping @Sendable () -> Bool, index: ProtoDescriptorIndex
    ) -> GRPCRouter<any StandardServiceHandler> {
        var router = GRPCRouter<any StandardServiceHandler>()
        for method in HealthCallHandler.Method.allCases {
            router.register(method.rawValue) { _, timeoutNanoseconds throws(GRPCStatus) in
                HealthCallHandler(method: method, timeoutNanoseconds: timeoutNanoseconds, isServing: isServing)
            }
        }
        for path in ServerReflectionCallHandler.methodPaths {
            router.register(path) { _, timeoutNanoseconds throws(GRPCStatus) in
                ServerReflectionCallHandler(index: index, timeoutNanoseconds: timeoutNanoseconds)
            }
        }
        return router
    }
}
