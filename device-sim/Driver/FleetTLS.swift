// What a fleet's TLS links share: two client contexts (HTTP/2 devices offer ALPN `h2`: gRPC, and gRPC-Web and Connect
// under `--web-http 2`; HTTP/1.1 devices `http/1.1`: REST, and gRPC-Web and Connect by default; so the collector picks
// the right protocol inside TLS), the name the certificate must carry, and how devices authenticate. Made once per run;
// OpenSSL contexts are safe to share across the loops once configured.

import Simulation
import TLS
import Trust

/// The run-wide TLS setup of the simulator's devices; see above.
final class FleetTLS: Sendable {
    /// For HTTP/2 devices (gRPC; gRPC-Web and Connect under `--web-http 2`): ALPN `h2`.
    let grpcContext: TLSContext
    /// For HTTP/1.1 devices (REST; gRPC-Web and Connect by default): ALPN `http/1.1`.
    let restContext: TLSContext
    /// The host the server certificate is verified for (a DNS name or an IP address).
    let serverName: String
    /// Certificate with bearer tokens, or per-device external PSK.
    let authentication: TLSAuthentication
    /// A reconnecting device offers its last session ticket.
    let resumption: Bool
    /// A handshake not finished by then closes the connection (a failed connect, retried).
    let handshakeTimeout: Duration

    /// The contexts for `link` (which must be TLS) against `target` (`host:port`); throws naming the CA file when
    /// it cannot be read.
    init(link: LinkSettings, target: String, handshakeTimeout: Duration) throws(TLSError) {
        authentication = link.tls ?? .token
        resumption = link.resumption
        self.handshakeTimeout = handshakeTimeout
        serverName = LinkSettings.host(of: target)
        func context(_ applicationProtocols: [String]) throws(TLSError) -> TLSContext {
            var settings = TLSClientSettings(caFile: link.caFile)
            settings.applicationProtocols = applicationProtocols
            // PSK devices get no tickets (the PSK already makes every handshake short); certificate devices keep
            // them only when they will offer them.
            settings.keepsSessions = link.resumption && link.tls != .psk
            return try TLSContext(client: settings)
        }
        grpcContext = try context(["h2"])
        restContext = try context(["http/1.1"])
    }

    /// The context for a device of `deviceProtocol` in a run whose gRPC-Web and Connect devices speak `webHTTP`.
    func context(for deviceProtocol: DeviceProtocol, webHTTP: WebHTTPVersion) -> TLSContext {
        deviceProtocol.usesHTTP2(webHTTP: webHTTP) ? grpcContext : restContext
    }
}
