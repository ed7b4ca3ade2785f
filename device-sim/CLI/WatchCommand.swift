// `device-sim watch`: a consumer of the collector's Watch RPC, printing committed readings as they commit.

import Flags
import FleetDriver
import Foundation
import GRPC
import TLS
import Telemetry

let watchFlags = FlagParser(
    command: "device-sim watch",
    summary: """
        Follows a collector's committed readings with the Watch RPC and prints them one per line as tab-separated \
        device, sensor, ts (Unix ms) and value, in commit order (with --since-ms, the stored readings from then \
        first, series by series). Runs until the stream ends (its status on stderr; exit 1 unless OK) or SIGINT \
        (exit 0). Prints "watching" on stderr once the collector has registered the watch.
        """,
    specs: [
        FlagSpec("target", value: "URL", default: "http://127.0.0.1:8080",
                 help: "the collector; https://host:port means TLS, as --tls does"),
        FlagSpec("tls", help: "connect over TLS (ALPN h2)"),
        FlagSpec("ca", value: "FILE", help: "PEM certificates to trust (default: the system store)"),
        FlagSpec("devices", value: "LIST", help: "devices to follow, comma-separated (default: all)"),
        FlagSpec("sensors", value: "LIST", help: "sensors to follow, comma-separated (default: all)"),
        FlagSpec("since-ms", value: "MS", help: "first replay the stored readings from this Unix time in ms"),
        FlagSpec("admin-token-file", value: "PATH", help: "the collector's admin token (Watch is a read)"),
    ])

func watch(_ arguments: [String]) throws(FlagError) -> Int32 {
    let flags = try watchFlags.parse(arguments)
    if flags.wantsHelp {
        print(watchFlags.helpText)
        return 0
    }
    guard flags.positional.isEmpty else { throw FlagError("unexpected argument \(flags.positional[0])") }
    let targetURL = flags.string("target")!
    func list(_ name: String) -> [String] {
        (flags.string(name) ?? "").split(separator: ",").map { String($0) }
    }
    var request = WatchRequest(devices: list("devices"), sensors: list("sensors"))
    if let text = flags.string("since-ms") {
        guard let since = Int64(text), since > 0 else {
            throw FlagError("--since-ms: expected a positive number, got \(text)")
        }
        request.sinceMs = since
    }
    let authorization = secret(flags, "admin-token-file").map { "Bearer " + String(decoding: $0, as: UTF8.self) }
    var tls: TLSContext?
    if flags.bool("tls") || targetURL.hasPrefix("https://") {
        let ca = flags.string("ca")
        if let ca, access(ca, R_OK) != 0 { fail("--ca: cannot read \(ca)") }
        do {
            tls = try TLSContext(client: TLSClientSettings(caFile: ca))  // ALPN h2 by default
        } catch {
            fail("--ca: \(error)")
        }
    }
    signal(SIGINT) { _ in WatchClient.interrupted.store(true, ordering: .relaxed) }
    let status: GRPCStatus?
    do {
        status = try WatchClient.run(
            target: hostPort(targetURL), request: request, authorization: authorization, tls: tls
        ) { event in
            switch event {
            case .subscribed:
                FileHandle.standardError.write(Data("device-sim: watching\n".utf8))
            case .batch(let message):
                var lines = ""
                for series in message.batch.series {
                    for (ts, value) in zip(series.timestamps(), series.values()) {
                        lines += "\(message.device)\t\(series.sensor)\t\(ts)\t\(value)\n"
                    }
                }
                FileHandle.standardOutput.write(Data(lines.utf8))
            }
        }
    } catch {
        fail("watch: \(error)", code: 1)
    }
    guard let status else {
        FileHandle.standardError.write(Data("device-sim: watch interrupted\n".utf8))
        return 0
    }
    FileHandle.standardError.write(Data("device-sim: watch ended: \(status)\n".utf8))
    return status.code == .ok ? 0 : 1
}
