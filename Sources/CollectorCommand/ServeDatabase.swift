// `collector serve --db`: a file path opens the embedded SQLite store; a PostgreSQL URL or libpq connection string
// (`postgresql://user@host:5432/fleet`, `host=db dbname=fleet`) opens the PostgreSQL backend, which several
// collectors may share. The password comes from the URL, PGPASSWORD or ~/.pgpass and is never logged: every
// message names the target through `PostgresURL.redact`.

import Collector
import CollectorService
import Flags
import Foundation
import Postgres
import PostgresStore
import Storage
import Store

let databaseFlagSpecs = [
    FlagSpec("collector-name", value: "NAME",
             help: "with a PostgreSQL --db: this collector's name in the shared database (its counter rows, the "
                 + "`collector` label); default: HOST:PORT of --listen (HOST:PID when the port is 0)"),
    FlagSpec("statement-timeout", value: "DURATION", default: "10s",
             help: "with a PostgreSQL --db: the longest one statement may run before the server cancels it (the "
                 + "batches of that transaction are answered UNAVAILABLE and resent)"),
]

/// Which database `--db` names.
enum DatabaseChoice {
    case sqlite(path: String)
    case postgres(connection: String)

    init(_ text: String) {
        self = PostgresURL.looksLikePostgres(text) ? .postgres(connection: text) : .sqlite(path: text)
    }

    /// The database as logs and errors may name it: a path, or the PostgreSQL target without its password.
    var displayName: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let connection): PostgresURL.redact(connection)
        }
    }
}

/// Reads the PostgreSQL flags into a configuration; refuses the SQLite-only ones.
func postgresConfiguration(
    _ flags: ParsedFlags, listen: String, store: StoreConfiguration
) throws(FlagError) -> PostgresStoreConfiguration {
    for name in ["retention", "rollup"] where flags.string(name) != nil {
        throw FlagError("--\(name) is not supported with a PostgreSQL --db yet (retention runs on the SQLite store only)")
    }
    var configuration = PostgresStoreConfiguration()
    configuration.collectorName = try flags.string("collector-name").map { name throws(FlagError) in
        guard !name.isEmpty, name.count <= 128, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw FlagError("--collector-name: expected 1 to 128 characters without spaces, got \"\(name)\"")
        }
        return name
    } ?? defaultCollectorName(listen: listen)
    configuration.maxQueuedBatches = store.maxQueuedBatches
    configuration.maxQueuedReadings = store.maxQueuedReadings
    configuration.maxTransactionMs = store.maxTransactionMs
    let timeout = try flags.milliseconds("statement-timeout")!
    guard (100...3_600_000).contains(timeout) else {
        throw FlagError("--statement-timeout: expected a duration from 100ms to 1h, got \(flags.string("statement-timeout")!)")
    }
    configuration.statementTimeoutMs = Int(timeout)
    return configuration
}

/// HOST:PORT of the listen address, or HOST:PID when the port is chosen by the system.
func defaultCollectorName(listen: String) -> String {
    let host = ProcessInfo.processInfo.hostName
    let port = listen.split(separator: ":").last.map(String.init) ?? "0"
    return port == "0" ? "\(host):\(getpid())" : "\(host):\(port)"
}

/// Opens the database `choice` names; the failure is a sentence naming it (never with a password).
func openDatabase(
    _ choice: DatabaseChoice, sqlite: StoreConfiguration, postgres: PostgresStoreConfiguration?
) throws(StoreError) -> any TelemetryStorage {
    switch choice {
    case .sqlite(let path): return try TelemetryStore(path: path, configuration: sqlite)
    case .postgres(let connection):
        return try PostgresTelemetryStore(connection: connection, configuration: postgres ?? .init())
    }
}
