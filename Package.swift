// swift-tools-version:6.0
// Fleetwire: an IoT telemetry collector. No package dependencies: only the toolchain, libnghttp2, libsqlite3,
// OpenSSL 3 and libpq.
import PackageDescription

let package = Package(
    name: "Fleetwire",
    products: [
        .executable(name: "collector", targets: ["CollectorCommand"]),
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
        // libpq, PostgreSQL's client library (Debian puts libpq-fe.h in /usr/include/postgresql: pkg-config's cflags).
        .systemLibrary(
            name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // OpenSSL 3: libcrypto is used only by Trust (digests, MACs), libssl only by TLS.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // The wall clock and the monotonic clock, read in one place: imports nothing.
        .target(name: "Clocks"),
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
        // What the collector needs from a telemetry database: the TelemetryStorage protocol and its value types.
        // No SQLite: a second backend implements the same protocol.
        .target(name: "Storage", dependencies: ["Telemetry"]),
        // The chunked layout both backends store, without a database: the chunk codec, chunk aggregates, the merge
        // of late readings, series buckets and readings pages over chunks.
        .target(name: "Chunks", dependencies: ["Storage", "Telemetry"]),
        // The SQLite backend and the only SQLite user: schema, group-commit writer, read threads, queries.
        .target(name: "Store", dependencies: ["Chunks", "Storage", "Telemetry", "Clocks", "CSQLite"]),
        // A thin, blocking, one-connection PostgreSQL client on libpq (its only user): connect, parameterized
        // statements, pipelines; imports nothing of ours. The foundation of the PostgreSQL backend (issue 16).
        .target(name: "Postgres", dependencies: ["CPostgres"]),
        // The PostgreSQL backend (issue 16): the chunked layout in PostgreSQL tables, a group-commit writer on
        // libpq pipelines, read threads, per-collector counters. Many collectors may share one database.
        .target(name: "PostgresStore", dependencies: ["Postgres", "Chunks", "Storage", "Telemetry", "Clocks"]),
        // SplitMix64, the seedable generator of the simulator, the tests and the benchmarks: imports nothing.
        .target(name: "SplitMix"),
        // SHA-256, HMAC and constant-time comparison on libcrypto (its only user), device tokens and TLS-PSKs, key
        // files: imports nothing of ours.
        .target(name: "Trust", dependencies: ["COpenSSL"]),
        // Bandwidth accounting: the protocol names, the attribution rules per connection, the collector-wide ledger.
        // Imports nothing of ours, so the simulator and the dashboard share its names without the collector.
        .target(name: "Accounting"),
        // The event loop: epoll, timers, eventfd wake-up, non-blocking sockets; the only user of CLinux.
        .target(name: "EventIO", dependencies: ["Clocks", "CLinux"]),
        // TLS 1.2/1.3 on libssl (its only user): a ByteTransport wrapping another one through memory BIOs, counting
        // every ciphertext byte as handshake, record overhead or plaintext; server and client contexts, PSK, tickets.
        .target(name: "TLS", dependencies: ["EventIO", "COpenSSL"]),

        // The service layer: REST routing, handlers and queries, reports, Prometheus text, authorization policy, the
        // dashboard. No event loop, no HTTP/2, no SQLite: it answers values and completes from any thread.
        .target(
            name: "CollectorService",
            dependencies: ["Accounting", "Telemetry", "Storage", "Clocks", "HTTP1", "GRPC", "Trust"],
            // The dashboard page, compiled into the binary (DashboardPage.swift): no resource bundle to ship.
            resources: [.embedInCode("Resources/dashboard.html")]),
        // The server layer: protocol sniffing, HTTP/1.1 and h2c connections, the gRPC call runner, limits, feeding
        // the bandwidth ledger; hands REST requests to CollectorService.
        .target(
            name: "Collector",
            dependencies: [
                "CollectorService", "Accounting", "Telemetry", "Storage", "Clocks", "HTTP1", "HTTP2", "GRPC", "EventIO",
                "Trust", "TLS",
            ]),

        // The `collector` executable (flags → store → CollectorServer → run); named apart from `Collector` so that
        // no two folders or modules differ only by case (a checkout on a case-insensitive file system would merge
        // them).
        .executableTarget(
            name: "CollectorCommand",
            dependencies: [
                "Collector", "CollectorService", "Clocks", "Flags", "Trust", "Storage", "Store", "Postgres",
                "PostgresStore", "Telemetry", "TLS",
            ],
            path: "Sources/CollectorCommand"),
        // The simulator's core: sensor models, simulated devices, the report; pure, so it is tested without sockets.
        .target(
            name: "Simulation", dependencies: ["Accounting", "SplitMix", "Telemetry"], path: "device-sim/Simulation"),
        // The simulator's networking: devices' connections on our event loop, HTTP/1.1 and HTTP/2 clients, plaintext
        // or inside TLS.
        .target(
            name: "FleetDriver",
            dependencies: ["Simulation", "EventIO", "HTTP1", "HTTP2", "GRPC", "Telemetry", "Trust", "TLS"],
            path: "device-sim/Driver"),
        .executableTarget(
            name: "device-sim",
            dependencies: ["FleetDriver", "Simulation", "Telemetry", "GRPC", "Flags", "Trust", "TLS"],
            path: "device-sim/CLI"),
        // `make bench` row 1: the store's writer alone on pre-built batches, no network.
        .executableTarget(
            name: "store-bench", dependencies: ["Chunks", "SplitMix", "Storage", "Store", "Telemetry"], path: "bench/store-bench"),

        .testTarget(name: "AccountingTests", dependencies: ["Accounting"]),
        .testTarget(name: "TelemetryTests", dependencies: ["SplitMix", "Telemetry"], exclude: ["Fixtures"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "GRPCTests", dependencies: ["GRPC", "Telemetry"]),
        .testTarget(name: "HTTP2Tests", dependencies: ["HTTP2"]),
        .testTarget(name: "FlagsTests", dependencies: ["Flags"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "SplitMix", "Telemetry"]),
        .testTarget(
            name: "FleetDriverTests",
            dependencies: [
                "FleetDriver", "Simulation", "Collector", "CollectorService", "Storage", "Store", "Telemetry", "GRPC",
                "HTTP2", "TLS",
            ]),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Accounting", "Collector", "CollectorService", "Storage", "Store", "HTTP1", "HTTP2", "GRPC",
                "Telemetry", "Trust",
            ]),
        .testTarget(
            name: "CollectorServiceTests",
            dependencies: ["CollectorService", "Accounting", "Storage", "Store", "Telemetry", "Trust"]),
        .testTarget(
            name: "StoreTests", dependencies: ["Chunks", "SplitMix", "Storage", "Store", "Clocks", "Telemetry"],
            exclude: ["Fixtures"]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO", "Clocks", "SplitMix"]),
        .testTarget(name: "TrustTests", dependencies: ["SplitMix", "Trust"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "EventIO"]),
        // Pure tests of PostgresURL, and a throwaway PostgreSQL 15 server (initdb + pg_ctl) for the connection's.
        // A throwaway PostgreSQL server for the suites that need one (initdb + pg_ctl in a temporary directory).
        .target(name: "PostgresTestSupport", path: "Tests/PostgresTestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "PostgresTestSupport"]),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["PostgresStore", "Postgres", "PostgresTestSupport", "Chunks", "Storage", "Telemetry", "SplitMix"]),
        // One storage conformance suite run against both backends (issue 16): the SQLite store and the PostgreSQL
        // store, through TelemetryStorage only, each answer checked against a brute-force model.
        .testTarget(
            name: "StorageConformanceTests",
            dependencies: [
                "Store", "PostgresStore", "Postgres", "PostgresTestSupport", "Storage", "Telemetry", "SplitMix",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
