// device-sim: runs a fleet of simulated devices against a collector and reports what each protocol cost.

import Flags
import FleetDriver
import Foundation
import Simulation
import Synchronization
import TLS
import Trust

let runFlags = FlagParser(
    command: "device-sim run",
    summary: """
        Simulates a fleet of devices, each with its own TCP connection, sending sensor readings to a collector over \
        gRPC client streams, gRPC unary calls, gRPC-Web, Connect or REST JSON, then prints the bandwidth per \
        protocol and per device next to the collector's own figures.
        """,
    specs: [
        FlagSpec("target", value: "URL", default: "http://127.0.0.1:8080",
                 help: "the collector; https://host:port means TLS, as --tls does"),
        FlagSpec("tls", help: "connect over TLS (gRPC with ALPN h2; REST with ALPN http/1.1; gRPC-Web and Connect with "
                     + "the ALPN of --web-http)"),
        FlagSpec("ca", value: "FILE",
                 help: "PEM certificates to trust (default: for a local target, the collector's self-signed tls-cert.pem "
                     + "beside --fleet-key-file or in data/ when readable; else the system store)"),
        FlagSpec("tls-auth", value: "token|psk",
                 help: "token (default): certificate + bearer token; psk: each device's TLS-PSK from --fleet-key-file, "
                     + "identity = device id, no token sent"),
        FlagSpec("connection", value: "keep|per-batch", default: "keep",
                 help: "keep the connection, or connect for each batch and close after its Ack (a sleeping device)"),
        FlagSpec("resumption", value: "on|off",
                 help: "TLS: a reconnecting device offers its last session ticket (default on)"),
        FlagSpec("devices", value: "N", default: "100", help: "number of devices"),
        FlagSpec("protocol", value: "NAME[,NAME…]", default: "mixed",
                 help: "grpc-stream, grpc-unary, grpc-sync, rest, grpc-web, grpc-web-text or connect (the last three: "
                     + "one request per batch, over the HTTP of --web-http); mixed (grpc-stream, grpc-unary, rest and "
                     + "grpc-sync, split "
                     + "evenly and deterministically); or a comma-separated list, e.g. grpc-unary,grpc-web,connect "
                     + "(devices dealt round-robin in the order given)"),
        FlagSpec("connect-codec", value: "proto|json", default: "proto",
                 help: "connect devices send the Batch as protobuf (application/proto) or as proto3 JSON "
                     + "(application/json)"),
        FlagSpec("web-http", value: "1.1|2", default: "1.1",
                 help: "the HTTP grpc-web, grpc-web-text and connect devices speak: 1.1, one request at a time on a "
                     + "keep-alive connection (ALPN http/1.1 over TLS); 2, as a browser over TLS does: the HTTP/2 "
                     + "client of the gRPC devices, one stream per Push (h2c with prior knowledge in plaintext, "
                     + "ALPN h2 over TLS)"),
        FlagSpec("sensors", value: "LIST", default: "temperature,humidity,pressure,battery",
                 help: "sensors per device: temperature, humidity, pressure, battery, co2, vibration"),
        FlagSpec("interval", value: "DURATION", default: "1s", help: "time between readings of a sensor"),
        FlagSpec("batch", value: "DURATION", default: "10s", help: "readings are sent as one batch this often"),
        FlagSpec("duration", value: "DURATION", default: "60s", help: "simulated time to cover"),
        FlagSpec("speedup", value: "X", default: "1", help: "simulated seconds per real second (60: an hour a minute)"),
        FlagSpec("max-rate", help: "send each batch as soon as the previous one is acknowledged (benchmarks)"),
        FlagSpec("stream-batches", value: "N", default: "6",
                 help: "batches per gRPC Upload or Sync stream before the device closes it and opens the next"),
        FlagSpec("stream-context", value: "on|off", default: "on",
                 help: "Upload and Sync batches leave out what their stream already said (sensor names, exponents, "
                     + "starts, seq); off sends every batch in full"),
        FlagSpec("packing", value: "on|off", default: "on",
                 help: "gRPC batches carry small mantissa deltas bit-packed (packed_deltas, a few bits each); "
                     + "off sends them as varints (a byte or more each)"),
        FlagSpec("buffer", value: "N", default: "64", help: "batches a device buffers while it cannot send"),
        FlagSpec("seed", value: "N", default: "42", help: "seed for the sensor models"),
        FlagSpec("seq-base", value: "N|auto", default: "auto",
                 help: "added to batch numbers; auto continues after the highest seq the collector stored"),
        FlagSpec("loops", value: "N", default: String(ProcessInfo.processInfo.activeProcessorCount),
                 help: "event loop threads"),
        FlagSpec("time-limit", value: "DURATION", help: "stop after this much real time (devices then send what they hold)"),
        FlagSpec("call-timeout", value: "DURATION", default: "30s", help: "a call not answered by then is retried"),
        FlagSpec("json", value: "PATH", help: "write the report (per protocol and per device) as JSON"),
        FlagSpec("csv", value: "PATH", help: "write the per-device figures as CSV"),
        FlagSpec("html", value: "PATH", help: "write the report as a self-contained HTML page with charts"),
        FlagSpec("acked-log", value: "PATH",
                 help: "append one line per acknowledged batch as acks arrive: device seq readings first_ms last_ms value_sum"),
        FlagSpec("fleet-key-file", value: "PATH",
                 help: "the collector's fleet key: each device sends Authorization: Bearer <its derived token>"),
        FlagSpec("admin-token-file", value: "PATH",
                 help: "the collector's admin token, for reading its figures (cross-check, --seq-base auto)"),
        FlagSpec("quiet", help: "no progress line"),
    ])

/// The secret in a key or token file, or a clear exit (the message names the file, never its content).
func secret(_ flags: ParsedFlags, _ name: String) -> [UInt8]? {
    guard let path = flags.string(name) else { return nil }
    do {
        let loaded = try SecretFile.read(path)
        if let warning = loaded.warning {
            FileHandle.standardError.write(Data("device-sim: warning: \(warning)\n".utf8))
        }
        return loaded.bytes
    } catch {
        fail("--\(name): \(error)")
    }
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("device-sim: \(message)\n".utf8))
    exit(code)
}

/// `http://host:port[/...]` or `host:port` → `host:port`.
func hostPort(_ url: String) -> String {
    var text = Substring(url)
    if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
    if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
    return String(text)
}

func run(_ arguments: [String]) throws(FlagError) {
    let flags = try runFlags.parse(arguments)
    if flags.wantsHelp {
        print(runFlags.helpText)
        return
    }
    guard flags.positional.isEmpty else { throw FlagError("unexpected argument \(flags.positional[0])") }
    let targetURL = flags.string("target")!
    let target = hostPort(targetURL)
    let mode: ProtocolMode
    switch ProtocolMode.parse(flags.string("protocol")!) {
    case .success(let parsed): mode = parsed
    case .failure(let error): throw FlagError("--protocol: \(error)")
    }
    guard let connectCodec = ConnectCodec(name: flags.string("connect-codec")!) else {
        throw FlagError("--connect-codec: expected proto or json, got \(flags.string("connect-codec")!)")
    }
    guard let webHTTP = WebHTTPVersion(name: flags.string("web-http")!) else {
        throw FlagError("--web-http: expected 1.1 or 2, got \(flags.string("web-http")!)")
    }
    let sensors: [SensorKind]
    switch SensorKind.list(parsing: flags.string("sensors")!) {
    case .success(let list): sensors = list
    case .failure(let error): throw FlagError("--sensors: \(error)")
    }
    let devices = try flags.int("devices", in: 1...1_000_000)!
    let intervalMs = try flags.milliseconds("interval")!
    let batchMs = try flags.milliseconds("batch")!
    let durationMs = try flags.milliseconds("duration")!
    guard let speedup = Double(flags.string("speedup")!), speedup > 0 else {
        throw FlagError("--speedup: expected a positive number, got \(flags.string("speedup")!)")
    }
    let maxRate = flags.bool("max-rate")
    if maxRate && flags.values["speedup"] != nil { throw FlagError("--speedup and --max-rate exclude each other") }
    let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
    let startMs = (nowMs - durationMs) / 1000 * 1000
    let clock = maxRate ? SimulatedClock.maxRate(start: startMs) : SimulatedClock(start: startMs, speedup: speedup)
    var settings = DeviceSettings(
        sensors: sensors, intervalMs: intervalMs, batchMs: batchMs, clock: clock, durationMs: durationMs,
        streamBatches: try flags.int("stream-batches", in: 1...100_000)!, bufferCapacity: try flags.int("buffer", in: 1...100_000)!)
    if let problem = settings.problem { throw FlagError(problem) }
    var fleetKey: FleetKey?
    if let bytes = secret(flags, "fleet-key-file") {
        do {
            fleetKey = try FleetKey(bytes)
        } catch {
            fail("--fleet-key-file: \(error)")
        }
    }
    let keyFile = flags.string("fleet-key-file")
    let defaultCA = LinkSettings.defaultCAFile(
        targetHost: LinkSettings.host(of: target), fleetKeyFile: keyFile,
        isReadable: { access($0, R_OK) == 0 })
    let link: LinkSettings
    switch LinkSettings.parse(
        target: targetURL, tls: flags.bool("tls"), tlsAuth: flags.string("tls-auth"),
        connection: flags.string("connection"), resumption: flags.string("resumption"), ca: flags.string("ca"),
        hasFleetKey: fleetKey != nil, defaultCAFile: defaultCA)
    {
    case .success(let settings): link = settings
    case .failure(let error): throw FlagError(error.description)
    }
    if let ca = link.caFile, access(ca, R_OK) != 0 { fail("--ca: cannot read \(ca)") }
    settings.connectionMode = link.connectionMode
    let adminAuthorization = secret(flags, "admin-token-file").map { "Bearer " + String(decoding: $0, as: UTF8.self) }
    // The simulator's own calls (health, seq base, the figures) go over TLS too when the devices do, so a
    // collector that refuses plaintext (--plaintext deny) still answers them.
    var adminTLS: TLSContext?
    if link.isTLS {
        var adminSettings = TLSClientSettings(caFile: link.caFile)
        adminSettings.applicationProtocols = ["http/1.1"]
        adminSettings.keepsSessions = false
        do {
            adminTLS = try TLSContext(client: adminSettings)
        } catch {
            fail("--ca: \(error)", code: 2)
        }
    }
    var settingsWithBase = settings
    let seqBaseText = flags.string("seq-base")!
    if seqBaseText != "auto" {
        guard let base = UInt64(seqBaseText), base < UInt64(Int64.max / 2) else {
            throw FlagError("--seq-base: expected auto or a whole number, got \(seqBaseText)")
        }
        settingsWithBase.seqBase = base
    } else {
        do {
            settingsWithBase.seqBase = try CollectorClient.highestSeq(
                target, prefix: "dev-", authorization: adminAuthorization, tls: adminTLS)
        } catch {
            fail("cannot reach the collector at \(target): \(error)", code: 1)
        }
    }
    let configuration = FleetConfiguration(seed: UInt64(try flags.int("seed", in: 0...Int.max)!), deviceCount: devices,
                                           protocolMode: mode, settings: settingsWithBase)
    var options = RunOptions(target: target, loops: try flags.int("loops", in: 1...256)!)
    options.callTimeoutMs = try flags.milliseconds("call-timeout")!
    switch flags.string("stream-context")! {
    case "on": options.usesStreamContext = true
    case "off": options.usesStreamContext = false
    case let other: throw FlagError("--stream-context: expected on or off, got \(other)")
    }
    switch flags.string("packing")! {
    case "on": options.packsDeltas = true
    case "off": options.packsDeltas = false
    case let other: throw FlagError("--packing: expected on or off, got \(other)")
    }
    options.connectCodec = connectCodec
    options.webHTTP = webHTTP
    options.timeLimitMs = try flags.milliseconds("time-limit")
    if let path = flags.string("acked-log") {
        do {
            options.ackLog = try AckLog(path: path)
        } catch {
            fail(error.description, code: 1)
        }
    }
    options.fleetKey = fleetKey
    options.link = link
    let isTerminal = isatty(STDERR_FILENO) != 0
    if !flags.bool("quiet") {
        let startNs = DispatchTime.now().uptimeNanoseconds
        let previous = LockedSnapshot()
        options.onProgress = { snapshot in
            let line = snapshot.line(startNs: startNs, previous: previous.swap(snapshot))
            if isTerminal {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            } else if previous.tick() % 5 == 0 {
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }
        }
    }

    // The collector must be there before anything starts.
    let before: CollectorFigures
    do {
        _ = try CollectorClient.get(target, "/healthz", timeoutSeconds: 5, tls: adminTLS)
        before = try CollectorClient.figures(target, authorization: adminAuthorization, tls: adminTLS)
    } catch {
        fail("cannot reach the collector at \(target): \(error)", code: 1)
    }
    FileHandle.standardError.write(Data("""
        device-sim: \(devices) devices (\(mode.name)\
        \(mode.dealtProtocols.contains(.connect) ? ", connect \(connectCodec.name)" : "")\
        \(mode.dealtProtocols.contains(where: \.isWebPush) ? ", web over \(webHTTP.description)" : "")) → \
        \(target) (\(link.description)\
        \(link.caFile.map { ", trusting \($0)" } ?? (link.isTLS && link.tls != .psk ? ", system CA store" : ""))); \
        \(sensors.count) sensors every \
        \(flags.string("interval")!), batches every \(flags.string("batch")!), \(flags.string("duration")!) simulated \
        \(maxRate ? "at max rate" : "at \(flags.string("speedup")!)x")\n
        """.utf8))
    let result: RunResult
    do {
        result = try FleetRunner.run(configuration, options: options)
    } catch {
        fail(error.description, code: 1)
    }
    if isTerminal && !flags.bool("quiet") { FileHandle.standardError.write(Data("\n".utf8)) }
    if let failure = result.firstHandshakeFailure {
        FileHandle.standardError.write(Data("device-sim: warning: a TLS handshake failed: \(failure)\n".utf8))
    }

    // The collector books a connection's last bytes when it closes: wait until its figures settle.
    var after: CollectorFigures?
    do {
        after = try CollectorClient.figures(target, authorization: adminAuthorization, tls: adminTLS)
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.15)
            let again = try CollectorClient.figures(target, authorization: adminAuthorization, tls: adminTLS)
            if again == after { break }
            after = again
        }
    } catch {
        FileHandle.standardError.write(Data("device-sim: no cross-check: cannot read the collector's figures: \(error)\n".utf8))
    }
    let simulatedMs = maxRate ? nil : durationMs
    var description = RunDescription(configuration: configuration, elapsedNs: result.elapsedNs, simulatedMs: simulatedMs)
    description.link = link
    description.connectCodec = connectCodec
    description.webHTTP = webHTTP
    let report = FleetReport.make(
        run: description,
        devices: result.summaries, latencies: result.latencies, collector: after?.subtracting(before))
    print(report.renderTable())
    if let path = flags.string("json"), !FileManager.default.createFile(atPath: path, contents: Data(report.renderJSON())) {
        fail("cannot write \(path)", code: 1)
    }
    if let path = flags.string("csv"), !FileManager.default.createFile(atPath: path, contents: Data(report.renderCSV().utf8)) {
        fail("cannot write \(path)", code: 1)
    }
    if let path = flags.string("html"), !FileManager.default.createFile(atPath: path, contents: Data(report.renderHTML().utf8)) {
        fail("cannot write \(path)", code: 1)
    }
    let stopped = report.stoppedDevices
    if !stopped.isEmpty {
        let reasons = stopped.map { "\($0.count) with \($0.failure)" }.joined(separator: ", ")
        fail("\(stopped.reduce(0) { $0 + $1.count }) devices were refused by the collector and stopped (\(reasons)); "
             + (stopped[0].failure.authenticationMeaning ?? ""), code: 1)
    }
    if let failure = options.ackLog?.writeFailure { fail(failure, code: 1) }
    if report.total.readingsAcked == 0 { fail("nothing was delivered", code: 1) }
}

/// The previous progress snapshot and a tick count, shared with the progress callback (runner thread).
final class LockedSnapshot: Sendable {
    private let state = Mutex<(snapshot: ProgressSnapshot?, ticks: Int)>((nil, 0))

    func swap(_ next: ProgressSnapshot) -> ProgressSnapshot? {
        state.withLock { state in
            defer { state.snapshot = next }
            return state.snapshot
        }
    }

    func tick() -> Int {
        state.withLock { state in
            state.ticks += 1
            return state.ticks
        }
    }
}

let usage = """
    usage: device-sim <command> [flags]

    commands:
      run     run a simulated fleet against a collector (see `device-sim run --help`)
      watch   print a collector's committed readings as they commit (see `device-sim watch --help`)
      help    show this help
    """

signal(SIGPIPE, SIG_IGN)
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "run":
    do {
        try run(Array(arguments.dropFirst()))
    } catch {
        fail(error.description)
    }
case "watch":
    do {
        exit(try watch(Array(arguments.dropFirst())))
    } catch {
        fail(error.description)
    }
case "help", "--help", "-h", nil:
    print(usage)
default:
    fail("unknown command \(arguments[0])\n\(usage)")
}
