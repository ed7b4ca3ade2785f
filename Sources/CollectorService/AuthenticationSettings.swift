import Trust

/// Who may write and read on a collector. Off, anyone may do anything (local experiments only); on, a device
/// writes only its own telemetry with the token derived from the fleet key, and reads need the admin token.
///
/// `CollectorConfiguration` defaults to off so in-process tests need no keys; `collector serve` defaults to on.
public struct AuthenticationSettings: Sendable {
    /// The secrets authentication checks against; nil when authentication is off.
    public var credentials: Credentials?
    /// Whether `GET /metrics` needs the admin token (`--metrics-auth admin`, the default) or is open (`none`).
    public var metricsNeedAdmin = true
    /// How often the running collector rereads the deny list (revocation takes effect within this plus one
    /// request; documented as "within 2 s").
    public var revocationReloadMs: Int64 = 1_000

    /// The fleet key devices' tokens derive from, and the admin token.
    public struct Credentials: Sendable {
        /// The key every device token is an HMAC of (`data/fleet.key`).
        public var fleetKey: FleetKey
        /// The token reads, the dashboard and `/metrics` need (`data/admin.token`).
        public var adminToken: AdminToken

        /// Credentials from loaded key files.
        public init(fleetKey: FleetKey, adminToken: AdminToken) {
            self.fleetKey = fleetKey
            self.adminToken = adminToken
        }
    }

    /// Authentication on with `credentials`, off with nil.
    public init(credentials: Credentials? = nil, metricsNeedAdmin: Bool = true) {
        self.credentials = credentials
        self.metricsNeedAdmin = metricsNeedAdmin
    }

    /// No authentication at all.
    public static let off = AuthenticationSettings()

    /// True when requests are checked.
    public var isEnabled: Bool { credentials != nil }
}
