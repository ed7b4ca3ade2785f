// How a run's devices reach the collector below the protocol: plaintext or TLS, how a TLS device authenticates,
// whether it keeps its connection or reconnects for every batch, and whether a reconnect offers the last session
// ticket. The flags (`--tls`, `--tls-auth`, `--connection`, `--resumption`, `--ca`) map onto these one to one; the
// parsing lives here, pure, so it is tested without a socket and the CLI only prints the message.
//
// Rules:
// - An `https://` target means TLS as `--tls` does; `--tls-auth`, `--resumption` and `--ca` need TLS.
// - `--tls-auth psk` needs the fleet key (each device's PSK derives from it) and sends no bearer token.
// - The CA default: a local target (127.0.0.1, localhost, ::1) trusts the collector's self-signed certificate file,
//   `tls-cert.pem` in the fleet key's folder (or `data/tls-cert.pem`) when readable; otherwise the system store.

/// How a device keeps its connection (`--connection`).
public enum ConnectionMode: String, CaseIterable, Equatable, Sendable {
    /// One connection for the whole run, reconnecting only after a failure (the default).
    case keep
    /// A sleeping battery device: connect, send one batch (a Push, a POST, an Upload of one batch), wait for the
    /// Ack, close; connect again for the next batch.
    case perBatch = "per-batch"

    /// The mode named `name` (`keep`, `per-batch`), or nil.
    public init?(name: String) { self.init(rawValue: name) }

    /// The flag's spelling.
    public var name: String { rawValue }
}

/// How a TLS device proves who it is (`--tls-auth`).
public enum TLSAuthentication: String, CaseIterable, Equatable, Sendable {
    /// The server's certificate authenticates the collector; the device sends its bearer token on every call.
    case token
    /// TLS 1.3 external PSK (identity = device id, key derived from the fleet key); no token on any call.
    case psk

    /// The mode named `name`, or nil.
    public init?(name: String) { self.init(rawValue: name) }

    /// The flag's spelling.
    public var name: String { rawValue }
}

/// The link settings of a run; see above.
public struct LinkSettings: Equatable, Sendable {
    /// TLS, and how devices authenticate over it; nil: plaintext.
    public var tls: TLSAuthentication?
    /// Keep-alive or reconnect per batch.
    public var connectionMode: ConnectionMode
    /// A reconnecting TLS device offers its last session ticket.
    public var resumption: Bool
    /// PEM file of the certificates to trust; nil: the system store (TLS only).
    public var caFile: String?

    /// Memberwise, with plaintext keep-alive defaults.
    public init(
        tls: TLSAuthentication? = nil, connectionMode: ConnectionMode = .keep, resumption: Bool = true,
        caFile: String? = nil
    ) {
        self.tls = tls
        self.connectionMode = connectionMode
        self.resumption = resumption
        self.caFile = caFile
    }

    /// True for TLS.
    public var isTLS: Bool { tls != nil }

    /// `plaintext, keep-alive` or `TLS (psk), per-batch reconnect, resumption on`.
    public var description: String {
        var parts: [String] = []
        if let tls {
            parts.append("TLS (\(tls == .psk ? "PSK" : "certificate, token"))")
        } else {
            parts.append("plaintext")
        }
        parts.append(connectionMode == .keep ? "keep-alive" : "per-batch reconnect")
        if tls != nil && tls != .psk { parts.append("resumption \(resumption ? "on" : "off")") }
        return parts.joined(separator: ", ")
    }

    /// The flags' values as given (nil: not given) → settings, or a message naming the flag. `target` is the
    /// `--target` text; `hasFleetKey` whether `--fleet-key-file` was given; `defaultCAFile` the file to trust when
    /// `--ca` is not given (see `defaultCAFile(targetHost:fleetKeyFile:isReadable:)`).
    public static func parse(
        target: String, tls: Bool, tlsAuth: String?, connection: String?, resumption: String?, ca: String?,
        hasFleetKey: Bool, defaultCAFile: String?
    ) -> Result<LinkSettings, LinkSettingsError> {
        let lowered = target.lowercased()
        let isHTTPS = lowered.hasPrefix("https://")
        if tls && lowered.hasPrefix("http://") {
            return .failure(LinkSettingsError("--tls and an http:// --target contradict each other; use https://"))
        }
        let isTLS = tls || isHTTPS
        var settings = LinkSettings()
        if let connection {
            guard let mode = ConnectionMode(name: connection) else {
                return .failure(LinkSettingsError("--connection: expected keep or per-batch, got \(connection)"))
            }
            settings.connectionMode = mode
        }
        if let resumption {
            switch resumption {
            case "on": settings.resumption = true
            case "off": settings.resumption = false
            default: return .failure(LinkSettingsError("--resumption: expected on or off, got \(resumption)"))
            }
        }
        var authentication = TLSAuthentication.token
        if let tlsAuth {
            guard let named = TLSAuthentication(name: tlsAuth) else {
                return .failure(LinkSettingsError("--tls-auth: expected token or psk, got \(tlsAuth)"))
            }
            authentication = named
        }
        guard isTLS else {
            for (flag, given) in [("--tls-auth", tlsAuth != nil), ("--resumption", resumption != nil), ("--ca", ca != nil)]
            where given {
                return .failure(LinkSettingsError("\(flag) needs TLS: add --tls or use an https:// --target"))
            }
            return .success(settings)
        }
        if authentication == .psk && !hasFleetKey {
            return .failure(LinkSettingsError("--tls-auth psk needs --fleet-key-file (each device's PSK derives from it)"))
        }
        settings.tls = authentication
        settings.caFile = ca ?? defaultCAFile
        return .success(settings)
    }

    /// `host` of `host:port`, `[v6]:port` or a bare host: the name a server certificate is verified for.
    public static func host(of target: String) -> String {
        if target.hasPrefix("["), let end = target.firstIndex(of: "]") {
            return String(target[target.index(after: target.startIndex)..<end])
        }
        let colons = target.filter { $0 == ":" }.count
        if colons == 1, let colon = target.lastIndex(of: ":") { return String(target[..<colon]) }
        return target
    }

    /// The certificate file a run trusts when `--ca` is not given: for a local target (127.0.0.1, localhost, ::1),
    /// the collector's self-signed `tls-cert.pem` beside the fleet key (else `data/tls-cert.pem`) when readable;
    /// nil (the system store) otherwise.
    public static func defaultCAFile(
        targetHost: String, fleetKeyFile: String?, isReadable: (String) -> Bool
    ) -> String? {
        let host = targetHost.lowercased()
        guard ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else { return nil }
        var candidates: [String] = []
        if let fleetKeyFile {
            let folder = fleetKeyFile.contains("/") ? String(fleetKeyFile[..<fleetKeyFile.lastIndex(of: "/")!]) : "."
            candidates.append((folder.isEmpty ? "" : folder) + "/tls-cert.pem")
        }
        candidates.append("data/tls-cert.pem")
        return candidates.first(where: isReadable)
    }
}

/// A link flag that cannot be used, with the message for the user.
public struct LinkSettingsError: Error, Equatable, CustomStringConvertible {
    /// The message, naming the flag.
    public var description: String

    init(_ description: String) { self.description = description }
}
