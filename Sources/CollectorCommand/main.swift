// collector: the Fleetwire telemetry collector. Flags → CollectorServer → run until SIGINT/SIGTERM.

import Collector
import CollectorService
import Dispatch
import Flags
import Storage
import PostgresStore
import Store
import Foundation

let serveFlags = FlagParser(
    command: "collector serve",
    summary: """
        Serves telemetry ingest (gRPC over HTTP/2 and REST JSON over HTTP/1.1, with TLS or in plaintext, all on one \
        port), stores every reading in SQLite or PostgreSQL, and reports bandwidth per protocol and per device. Stops cleanly on SIGINT or SIGTERM.
        """,
    specs: [
        FlagSpec("listen", value: "HOST:PORT", default: "127.0.0.1:8080", help: "address to listen on (port 0: any free port)"),
        FlagSpec("db", value: "PATH|URL", default: "data/telemetry.db",
                 help: "SQLite database file (created if missing), or a PostgreSQL URL or connection string "
                     + "(postgresql://user@host:5432/dbname) that several collectors may share"),
        FlagSpec("loops", value: "N", default: String(System.coreCount), help: "event loop threads"),
        FlagSpec("max-message-bytes", value: "N", default: String(4 << 20), help: "largest gRPC message accepted"),
        FlagSpec("max-body-bytes", value: "N", default: String(1 << 20), help: "largest REST request body accepted"),
        FlagSpec("max-connections", value: "N", default: "16384",
                 help: "open connections at once; more are closed on accept (capped by the open-file limit)"),
        FlagSpec("max-connections-per-address", value: "N", default: "1024",
                 help: "open connections from one IP address (raise it behind a NAT or a local proxy)"),
        FlagSpec("max-buffered-request-bytes", value: "N", default: String(128 << 20),
                 help: "memory for partially received requests, all connections together (then 503 / UNAVAILABLE)"),
        FlagSpec("store-queue-batches", value: "N", default: "10000",
                 help: "batches waiting for the database writer at most (then 503 / UNAVAILABLE)"),
        FlagSpec("store-queue-readings", value: "N", default: "1000000",
                 help: "readings waiting for the database writer at most (then 503 / UNAVAILABLE)"),
        FlagSpec("commit-window", value: "DURATION", default: "20ms",
                 help: "longest a transaction keeps taking queued batches before COMMIT (1ms to 20ms): when the "
                     + "writer is behind, longer means larger commits and more readings/s, shorter means faster acks"),
        FlagSpec("header-timeout", value: "DURATION", default: "10s",
                 help: "HTTP/1.1: a complete request head within this long of connecting or of its first byte "
                     + "(else 408); durations like 500ms, 10s, 5m"),
        FlagSpec("request-timeout", value: "DURATION", default: "30s",
                 help: "HTTP/1.1: a complete body within this long of its head, else 408"),
        FlagSpec("stream-idle-timeout", value: "DURATION", default: "5m",
                 help: "HTTP/2: a request stream still sending that carries no byte this long is answered and reset"),
        FlagSpec("idle-timeout", value: "DURATION", default: "5m",
                 help: "a connection with no traffic this long is closed"),
        FlagSpec("write-timeout", value: "DURATION", default: "30s",
                 help: "a connection whose client reads none of its pending output this long is closed"),
        FlagSpec("cors-origin", value: "ORIGINS", default: "",
                 help: "pages from these origins (comma-separated scheme://host[:port], or *) may call the "
                     + "collector from a browser (gRPC-Web, Connect, the read API); default: same origin only"),
        FlagSpec("quiet", help: "log warnings and errors only"),
    ] + storageFlagSpecs + databaseFlagSpecs + authenticationFlagSpecs + tlsFlagSpecs)

func usage() -> String {
    """
    usage: collector <command> [flags]

    commands:
      serve     run the collector (see `collector serve --help`)
      token     print a device's token (see `collector token --help`)
      devices   revoke, restore and list revoked devices (see `collector devices --help`)
      sql       run read-only SQL on the database; the table readings(device, sensor, ts, value) has every
                reading (see `collector sql --help`)
      help      show this help
    """
}

/// Exits with a message: code 2 for a bad command line, 1 for a failure.
func fail(_ message: String, code: Int32 = 2) -> Never {
    Log.writeToStandardError("collector: \(message)\n")
    exit(code)
}

/// A timeout flag in milliseconds: at least 10 ms, at most a day.
func timeout(_ flags: ParsedFlags, _ name: String) throws(FlagError) -> Int64 {
    let milliseconds = try flags.milliseconds(name)!
    guard (10...86_400_000).contains(milliseconds) else {
        throw FlagError("--\(name): expected a duration from 10ms to 1d, got \(flags.string(name)!)")
    }
    return milliseconds
}

func serve(_ arguments: [String]) throws(FlagError) {
    let flags = try serveFlags.parse(arguments)
    if flags.wantsHelp {
        print(serveFlags.helpText)
        return
    }
    guard flags.positional.isEmpty else { throw FlagError("unexpected argument \(flags.positional[0])") }
    var configuration = CollectorConfiguration()
    var storeConfiguration = StoreConfiguration()
    configuration.listen = flags.string("listen")!
    configuration.databasePath = flags.string("db")!
    configuration.loops = try flags.int("loops", in: 1...256)!
    configuration.maxMessageBytes = try flags.int("max-message-bytes", in: 1024...(64 << 20))!
    configuration.maxBodyBytes = try flags.int("max-body-bytes", in: 1024...(64 << 20))!
    configuration.maxConnections = try flags.int("max-connections", in: 1...1_000_000)!
    configuration.maxConnectionsPerAddress = try flags.int("max-connections-per-address", in: 1...1_000_000)!
    configuration.maxBufferedRequestBytes = try flags.int("max-buffered-request-bytes", in: (64 << 10)...(1 << 40))!
    storeConfiguration.maxQueuedBatches = try flags.int("store-queue-batches", in: 1...10_000_000)!
    storeConfiguration.maxQueuedReadings = try flags.int("store-queue-readings", in: 1...1_000_000_000)!
    let window = try flags.milliseconds("commit-window")!
    guard (1...20).contains(window) else {
        throw FlagError("--commit-window: expected a duration from 1ms to 20ms, got \(flags.string("commit-window")!)")
    }
    storeConfiguration.maxTransactionMs = Int(window)
    configuration.headerTimeoutMs = try timeout(flags, "header-timeout")
    configuration.requestTimeoutMs = try timeout(flags, "request-timeout")
    configuration.streamIdleTimeoutMs = try timeout(flags, "stream-idle-timeout")
    configuration.idleTimeoutMs = try timeout(flags, "idle-timeout")
    configuration.writeTimeoutMs = try timeout(flags, "write-timeout")
    do throws(CORSPolicyError) {
        configuration.cors = try CORSPolicy(flag: flags.string("cors-origin")!)
    } catch {
        throw FlagError(error.message)
    }
    let log = Log(isVerbose: !flags.bool("quiet"))
    // The database's flags are checked before the key, token and certificate files are created.
    let database = DatabaseChoice(configuration.databasePath)
    var postgres: PostgresStoreConfiguration?
    if case .postgres = database {
        postgres = try postgresConfiguration(flags, listen: configuration.listen, store: storeConfiguration)
    } else {
        try applyStorageFlags(flags, to: &storeConfiguration, log: log)
    }
    configuration.authentication = try authenticationSettings(flags, log: log)
    (configuration.tls, configuration.plaintext) = try tlsSettings(flags, log: log)

    signal(SIGPIPE, SIG_IGN)
    // A write past RLIMIT_FSIZE (`ulimit -f`, prlimit) then fails with EFBIG, which SQLite reports as an I/O error
    // (ingest answers UNAVAILABLE and recovers when the limit is raised), instead of the kernel killing the process.
    signal(SIGXFSZ, SIG_IGN)
    // SIGINT and SIGTERM are blocked in every thread (threads inherit this mask) and taken with sigwait below, so
    // a signal that arrives at any moment, even during start-up, stays pending until it is handled.
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &stopSignals, nil)
    let server: CollectorServer
    do {
        let store = try openDatabase(database, sqlite: storeConfiguration, postgres: postgres)
        server = try CollectorServer(configuration: configuration, store: store, log: log)
    } catch let error as StoreError {
        // A database that cannot be reached is a failure to start (1), not a bad command line (2).
        if case .postgres = database { fail("cannot open the database \(database.displayName): \(error)", code: 1) }
        fail("cannot open the database \(configuration.databasePath): \(error)")
    } catch {
        fail("\(error)")
    }
    let backend = postgres.map { "PostgreSQL \(database.displayName), collector \($0.collectorName)" }
    log.notice("""
        collector listening on \(server.localAddress) (database \(backend ?? configuration.databasePath), \
        \(configuration.loops) loops)
        """)
    var received: Int32 = 0
    sigwait(&stopSignals, &received)
    log.notice("collector stopping (\(received == SIGINT ? "SIGINT" : "SIGTERM")): finishing in-flight requests")
    server.shutdown()
    let totals = server.ledger.perProtocol().values.reduce(into: (Int64(0), Int64(0))) {
        $0.0 += $1.readings
        $0.1 += $1.bytesIn.total + $1.bytesOut.total
    }
    log.notice("collector stopped: database closed (\(totals.0) readings and \(totals.1) wire bytes counted in total)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "serve":
    do {
        try serve(Array(arguments.dropFirst()))
    } catch {
        fail(error.description)
    }
case "token":
    do {
        try token(Array(arguments.dropFirst()))
    } catch {
        fail(error.description)
    }
case "devices":
    do {
        try devices(Array(arguments.dropFirst()))
    } catch {
        fail(error.description)
    }
case "sql":
    do {
        try sql(Array(arguments.dropFirst()))
    } catch {
        fail(error.description)
    }
case "help", "--help", "-h", nil:
    print(usage())
default:
    fail("unknown command \(arguments[0])\n\(usage())")
}
