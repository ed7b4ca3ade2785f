// `collector serve`'s authentication flags → AuthenticationSettings, with the log lines an operator needs: a loud
// warning when it is off, where the key and token files are (created on first start), and any file whose
// permissions are too open. Never a secret.

import Collector
import CollectorService
import Flags
import Trust

/// The serve flags for authentication.
let authenticationFlagSpecs = [
    FlagSpec(
        "auth", value: "on|off", default: "on",
        help: "check device and admin tokens; off lets any client write as any device and read everything"),
    FlagSpec(
        "fleet-key-file", value: "PATH", default: "data/fleet.key",
        help: "key that device tokens derive from (created, mode 0600, when missing)"),
    FlagSpec(
        "admin-token-file", value: "PATH", default: "data/admin.token",
        help: "token for reads, the dashboard and /metrics (created, mode 0600, when missing)"),
    FlagSpec("metrics-auth", value: "admin|none", default: "admin", help: "whether GET /metrics needs the admin token"),
]

/// Reads (or creates) the key and token files the flags name and logs what an operator must know.
func authenticationSettings(_ flags: ParsedFlags, log: Log) throws(FlagError) -> AuthenticationSettings {
    let metricsNeedAdmin: Bool
    switch flags.string("metrics-auth")! {
    case "admin": metricsNeedAdmin = true
    case "none": metricsNeedAdmin = false
    case let other: throw FlagError("--metrics-auth: expected admin or none, got \"\(other)\"")
    }
    switch flags.string("auth")! {
    case "off":
        log.warning(
            "WARNING: authentication is OFF: any client can write as any device and read all telemetry; "
                + "use only for local experiments")
        return AuthenticationSettings(credentials: nil, metricsNeedAdmin: metricsNeedAdmin)
    case "on":
        break
    case let other:
        throw FlagError("--auth: expected on or off, got \"\(other)\"")
    }
    let keyPath = flags.string("fleet-key-file")!
    let adminPath = flags.string("admin-token-file")!
    let fleetKey: FleetKey
    let adminToken: AdminToken
    do throws(TrustError) {
        fleetKey = try FleetKey(try loadSecret(keyPath, what: "fleet key", log: log))
    } catch {
        throw FlagError("--fleet-key-file \(keyPath): \(error)")
    }
    do throws(TrustError) {
        adminToken = try AdminToken(try loadSecret(adminPath, what: "admin token", log: log))
    } catch {
        throw FlagError("--admin-token-file \(adminPath): \(error)")
    }
    let credentials = AuthenticationSettings.Credentials(fleetKey: fleetKey, adminToken: adminToken)
    log.notice(
        """
        authentication on: device tokens derive from the fleet key in \(keyPath) (`collector token DEVICE` prints \
        one); reads and the dashboard need the admin token in \(adminPath); /metrics \
        \(metricsNeedAdmin ? "needs the admin token" : "is open")
        """)
    return AuthenticationSettings(credentials: credentials, metricsNeedAdmin: metricsNeedAdmin)
}

private func loadSecret(_ path: String, what: String, log: Log) throws(TrustError) -> [UInt8] {
    let loaded = try SecretFile.readOrCreate(path)
    if loaded.wasCreated { log.notice("created \(what) at \(path)") }
    if let warning = loaded.warning { log.warning("\(what): \(warning)") }
    return loaded.bytes
}
