import Collector
import CollectorService
import Foundation
import Storage
import Store

/// A real collector on an ephemeral port with a fresh database in a temp directory.
final class TestCollector {
    let directory: URL
    let server: CollectorServer
    var port: UInt16 { server.localAddress.port }
    var databasePath: String { directory.appendingPathComponent("telemetry.db").path }

    init(_ configure: (inout CollectorConfiguration) -> Void = { _ in },
         store configureStore: (inout StoreConfiguration) -> Void = { _ in },
         wrapStore: (TelemetryStore) -> any TelemetryStorage = { $0 }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = CollectorConfiguration()
        configuration.listen = "127.0.0.1:0"
        configuration.databasePath = directory.appendingPathComponent("telemetry.db").path
        configuration.loops = 2
        configuration.shutdownGraceMs = 2_000
        configure(&configuration)
        var storeConfiguration = StoreConfiguration()
        configureStore(&storeConfiguration)
        let store = try TelemetryStore(path: configuration.databasePath, configuration: storeConfiguration)
        server = try CollectorServer(configuration: configuration, store: wrapStore(store), log: Log(isVerbose: false))
    }

    /// Waits until no connection is open on the server (clients closed theirs), bounded.
    func waitForIdle(timeout: Double = 5) {
        let deadline = Date().addingTimeInterval(timeout)
        while server.openConnections() > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Runs `sql` as `collector sql` does (`SQLConsole`: the file opened read-only, with `readings` over the chunks
    /// and `readings_view`): an independent reader of the database file. Rows as "a|b|c", NULL as empty.
    func query(_ sql: String) throws -> [String] {
        try SQLConsole.run(path: databasePath, sql: sql).rows.map { row in
            row.map { $0.text ?? "" }.joined(separator: "|")
        }
    }

    func stop() {
        server.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

extension CollectorServer {
    /// A collector on a SQLite store opened at `configuration.databasePath`, as `collector serve` makes one.
    convenience init(sqliteWith configuration: CollectorConfiguration, store: StoreConfiguration = .init()) throws {
        let opened = try TelemetryStore(path: configuration.databasePath, configuration: store)
        try self.init(configuration: configuration, store: opened, log: Log(isVerbose: false))
    }
}
