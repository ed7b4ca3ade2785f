// `collector devices revoke|restore|revoked`: the deny list, edited while a collector may be running on the same
// database (the collector rereads it every second, so a change takes effect within 2 s).

import Clocks
import Collector
import CollectorService
import Flags
import Foundation
import PostgresStore
import Storage
import Store
import Telemetry

let devicesUsage = """
    usage: collector devices <revoke|restore|revoked> [DEVICE...] [--db PATH|URL]

    commands:
      revoke DEVICE...    refuse these devices from now on, even with a valid token (403 / PERMISSION_DENIED)
      restore DEVICE...   accept them again
      revoked             list the revoked devices and when they were revoked

    A running collector on the same database picks the change up within 2 s; with a PostgreSQL --db, every
    collector sharing it does.
    """

let devicesSummaries = [
    "revoke": """
        Adds the devices to the deny list of the database: the collector refuses their writes from now on, even with a \
        valid token (HTTP 403 / gRPC PERMISSION_DENIED), within 2 s when it is running.
        """,
    "restore": "Takes the devices off the deny list: the collector accepts their tokens again (within 2 s).",
    "revoked": "Lists the revoked devices, one per line: device id, a tab, the time of the revocation (UTC).",
]

func devicesFlags(_ command: String) -> FlagParser {
    FlagParser(
        command: "collector devices \(command)\(command == "revoked" ? "" : " DEVICE...")",
        summary: devicesSummaries[command] ?? command,
        specs: [
            FlagSpec("db", value: "PATH|URL", default: "data/telemetry.db",
                     help: "the collector's SQLite database, or the PostgreSQL URL or connection string its --db names")
        ])
}

func devices(_ arguments: [String]) throws(FlagError) {
    guard let command = arguments.first, ["revoke", "restore", "revoked"].contains(command) else {
        if let first = arguments.first, first != "--help" && first != "-h" && first != "help" {
            throw FlagError("unknown devices command \(first)\n\(devicesUsage)")
        }
        print(devicesUsage)
        return
    }
    let parser = devicesFlags(command)
    let flags = try parser.parse(Array(arguments.dropFirst()))
    if flags.wantsHelp {
        print(parser.helpText)
        return
    }
    let ids = flags.positional
    if command == "revoked" {
        guard ids.isEmpty else { throw FlagError("revoked takes no device ids") }
    } else {
        guard !ids.isEmpty else { throw FlagError("\(command) needs at least one device id") }
        if let bad = ids.first(where: { !Identifiers.isValidDeviceID($0) }) {
            throw FlagError("invalid device id \"\(bad)\": must match [A-Za-z0-9._:-]{1,128}")
        }
    }
    let database = DatabaseChoice(flags.string("db")!)
    do {
        let revocations: any DenyList
        switch database {
        case .sqlite(let path): revocations = try DeviceRevocations(path: path)
        case .postgres(let connection): revocations = try PostgresRevocations(connection: connection)
        }
        switch command {
        case "revoke":
            let added = try revocations.revoke(ids, atMs: WallClock.nowMs())
            let already = ids.filter { !added.contains($0) }.joined(separator: ", ")
            print("revoked \(added.count) device(s)" + (already.isEmpty ? "" : "; already revoked: \(already)"))
        case "restore":
            let removed = try revocations.restore(ids)
            let notRevoked = ids.filter { !removed.contains($0) }.joined(separator: ", ")
            print("restored \(removed.count) device(s)" + (notRevoked.isEmpty ? "" : "; not revoked: \(notRevoked)"))
        default:
            for entry in try revocations.list() {
                print("\(entry.device)\t\(isoTime(entry.revokedAtMs))")
            }
        }
    } catch {
        fail("\(error)", code: 1)
    }
}

/// Unix ms as RFC 3339 UTC with milliseconds.
func isoTime(_ ms: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
}

/// The deny-list operations both backends offer, so the command is written once.
protocol DenyList {
    func revoke(_ devices: [String], atMs: Int64) throws(StoreError) -> [String]
    func restore(_ devices: [String]) throws(StoreError) -> [String]
    func list() throws(StoreError) -> [RevokedDevice]
}

extension DeviceRevocations: DenyList {}
extension PostgresRevocations: DenyList {}
