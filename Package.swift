// swift-tools-version:6.0
// Fleetwire: an IoT telemetry collector. No package dependencies: only the toolchain, libnghttp2 and libsqlite3.
import PackageDescription

let package = Package(
    name: "Fleetwire",
    products: [
        .executable(name: "collector", targets: ["collector"]),
        .executable(name: "device-sim", targets: ["device-sim"]),
        .executable(name: "store-bench", targets: ["store-bench"]),
    ],
    targets: [
        // C system modules: thin header-only shims, each imported by exactly one Swift module.
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(
            name: "CNghttp2", path: "Sources/CNghttp2", pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),

        // Command-line flags with help text, shared by the two executables.
        .target(name: "Flags"),
        // Pure model and codecs: imports nothing of ours.
        .target(name: "Telemetry"),
        // Incremental HTTP/1.1 parser and serializer: no sockets, imports nothing of ours.
        .target(name: "HTTP1"),
        // HTTP/2 sessions on libnghttp2 (its only user) and byte attribution per frame.
        .target(name: "HTTP2", dependencies: ["CNghttp2"]),
        // Transport-neutral gRPC: message framing, status, metadata, request/response parts, the method router and
        // the Telemetry service's handlers. Transports (HTTP/2 in Collector and FleetDriver) convert at their edge.
        .target(name: "GRPC", dependencies: ["Telemetry"]),
        // The only SQLite user: schema, group-commit writer, queries.
        .target(name: "Store", dependencies: ["Telemetry", "CSQLite"]),
        // SHA-256, HMAC, constant-time comparison, device tokens, key files: imports nothing of ours.
        .target(name: "Trust"),
        // The event loop: epoll, timers, eventfd wake-up, non-blocking sockets; the only user of CLinux.
        .target(name: "EventIO", dependencies: ["CLinux"]),

        // Server wiring: protocol sniffing, REST and gRPC handlers, bandwidth ledger.
        .target(
            name: "Collector", dependencies: ["Telemetry", "Store", "HTTP1", "HTTP2", "GRPC", "EventIO", "Trust"]),

        .executableTarget(name: "collector", dependencies: ["Collector", "Flags", "Trust", "Store", "Telemetry"]),
        // The simulator's core: sensor models, simulated devices, the report; pure, so it is tested without sockets.
        .target(name: "Simulation", dependencies: ["Telemetry"], path: "device-sim/Simulation"),
        // The simulator's networking: devices' connections on our event loop, HTTP/1.1 and h2c clients.
        .target(
            name: "FleetDriver",
            dependencies: ["Simulation", "EventIO", "HTTP1", "HTTP2", "GRPC", "Telemetry", "Trust"],
            path: "device-sim/Driver"),
        .executableTarget(
            name: "device-sim", dependencies: ["FleetDriver", "Simulation", "Telemetry", "Flags", "Trust"],
            path: "device-sim/CLI"),
        // `make bench` row 1: the store's writer alone on pre-built batches, no network.
        .executableTarget(name: "store-bench", dependencies: ["Store", "Telemetry"], path: "bench/store-bench"),

        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"], exclude: ["Fixtures"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "GRPCTests", dependencies: ["GRPC", "Telemetry"]),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2"]),
        .testTarget(name: "FlagsTests", dependencies: ["Flags"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Telemetry"]),
        .testTarget(
            name: "FleetDriverTests",
            dependencies: ["FleetDriver", "Simulation", "Collector", "Store", "Telemetry", "GRPC", "HTTP2"]),
        .testTarget(
            name: "CollectorTests", dependencies: ["Collector", "HTTP1", "HTTP2", "GRPC", "Telemetry", "Trust"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Telemetry"], exclude: ["Fixtures"]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO"]),
        .testTarget(name: "TrustTests", dependencies: ["Trust"]),
    ],
    swiftLanguageModes: [.v6]
)
