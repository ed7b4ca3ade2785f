// collector: the Fleetwire telemetry collector. Flags → CollectorServer → run until SIGINT/SIGTERM.

import Collector
import Dispatch
import Flags
import Foundation

let serveFlags = FlagParser(
    command: "collector serve",
    summary: """
        Serves telemetry ingest (gRPC over h2c and REST JSON over HTTP/1.1, on one port), stores every reading in \
        SQLite, and reports bandwidth per protocol and per device. Stops cleanly on SIGINT or SIGTERM.
        """,
    specs: [
        FlagSpec("listen", value: "HOST:PORT", default: "127.0.0.1:8080", help: "address to listen on (port 0: any free port)"),
        FlagSpec("db", value: "PATH", default: "data/telemetry.db", help: "SQLite database file (created if missing)"),
        FlagSpec("loops", value: "N", default: String(System.coreCount), help: "event loop threads"),
        FlagSpec("max-message-bytes", value: "N", default: String(4 << 20), help: "largest gRPC message accepted"),
        FlagSpec("max-body-bytes", value: "N", default: String(1 << 20), help: "largest REST request body accepted"),
        FlagSpec("quiet", help: "log warnings and errors only"),
    ] + authenticationFlagSpecs)

func usage() -> String {
    """
    usage: collector <command> [flags]

    commands:
      serve     run the collector (see `collector serve --help`)
      token     print a device's token (see `collector token --help`)
      devices   revoke, restore and list revoked devices (see `collector devices --help`)
      help      show this help
    """
}

/// Exits with a message: code 2 for a bad command line, 1 for a failure.
func fail(_ message: String, code: Int32 = 2) -> Never {
    Log.writeToStandardError("collector: \(message)\n")
    exit(code)
}

func serve(_ arguments: [String]) throws(FlagError) {
    let flags = try serveFlags.parse(arguments)
    if flags.wantsHelp {
        print(serveFlags.helpText)
        return
    }
    guard flags.positional.isEmpty else { throw FlagError("unexpected argument \(flags.positional[0])") }
    var configuration = CollectorConfiguration()
    configuration.listen = flags.string("listen")!
    configuration.databasePath = flags.string("db")!
    configuration.loops = try flags.int("loops", in: 1...256)!
    configuration.maxMessageBytes = try flags.int("max-message-bytes", in: 1024...(64 << 20))!
    configuration.maxBodyBytes = try flags.int("max-body-bytes", in: 1024...(64 << 20))!
    let log = Log(isVerbose: !flags.bool("quiet"))
    configuration.authentication = try authenticationSettings(flags, log: log)

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
        server = try CollectorServer(configuration: configuration, log: log)
    } catch {
        fail(error.description)
    }
    log.notice("""
        collector listening on \(server.localAddress) (database \(configuration.databasePath), \
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
case "help", "--help", "-h", nil:
    print(usage())
default:
    fail("unknown command \(arguments[0])\n\(usage())")
}
