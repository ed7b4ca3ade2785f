// TLS on the collector's one port: what the operator sets (`collector serve --tls-cert/--tls-key/--plaintext`)
// and what the server derives from it at start (`CollectorTLS`: the OpenSSL context with the per-device PSK lookup,
// and the count of handshakes in progress that bounds how many a flood can hold at once).

import CollectorService
import Synchronization
import TLS
import Telemetry
import Trust

/// TLS settings of a collector; nil `CollectorConfiguration.tls` serves plaintext only.
public struct CollectorTLSSettings: Sendable {
    /// PEM certificate (chain allowed).
    public var certificateFile: String
    /// PEM private key.
    public var keyFile: String
    /// The 80-byte session-ticket key (from a file that survives restarts); nil: random per process.
    public var ticketKey: [UInt8]?
    /// Session tickets per full or resumed handshake (see TLSContext.swift for why 1).
    public var ticketsPerHandshake = 1
    /// A handshake not finished this long after the ClientHello's first byte is closed (slow or stalled clients).
    public var handshakeTimeoutMs: Int64 = 10_000
    /// Handshakes in progress at once, all loops; connections beyond it are closed at their first byte.
    public var maxConcurrentHandshakes = 1_024

    /// Settings for a certificate and key; the rest at their defaults.
    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// Whether connections without TLS are served when TLS is on.
public enum PlaintextPolicy: String, Sendable, CaseIterable {
    /// Served (tokens then travel in clear).
    case allow
    /// Refused: HTTP/1.1 gets 426 with a message, h2c a GOAWAY(INADEQUATE_SECURITY) with a debug message.
    case deny
}

/// The server's TLS state, shared by every loop.
final class CollectorTLS: Sendable {
    let context: TLSContext
    let settings: CollectorTLSSettings
    /// Handshakes started and not yet finished or failed.
    let handshakesInProgress = Atomic(0)

    init(settings: CollectorTLSSettings, authenticator: Authenticator) throws(TLSError) {
        self.settings = settings
        var server = TLSServerSettings(certificateFile: settings.certificateFile, keyFile: settings.keyFile)
        server.ticketKey = settings.ticketKey
        server.ticketsPerHandshake = settings.ticketsPerHandshake
        if let credentials = authenticator.settings.credentials {
            // Per-device PSK: identity = device id, key derived from the fleet key (never the token's bytes).
            // Identities that are not device ids are tried as session tickets; revoked devices fail the handshake.
            server.isExternalIdentity = { Identifiers.isValidDeviceID($0) }
            server.externalPSK = { identity in
                authenticator.isRevoked(identity) ? nil : credentials.fleetKey.tlsPSK(for: identity).bytes
            }
        }
        context = try TLSContext(server: server)
    }

    /// Takes a handshake slot; false when all are taken.
    func beginHandshake() -> Bool {
        let limit = settings.maxConcurrentHandshakes
        while true {
            let current = handshakesInProgress.load(ordering: .relaxed)
            guard current < limit else { return false }
            if handshakesInProgress.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing
            ).exchanged { return true }
        }
    }

    /// Gives a handshake slot back.
    func endHandshake() {
        handshakesInProgress.subtract(1, ordering: .acquiringAndReleasing)
    }
}

extension CollectorContext {
    /// Counts how a handshake ended, and logs failures (throttled: a client can fail handshakes at will).
    func recordHandshakeEnd(of transport: TLSTransport) {
        if let kind = transport.handshakeKind {
            switch kind {
            case .full: protection.tlsHandshake(.full)
            case .resumed: protection.tlsHandshake(.resumed)
            case .psk: protection.tlsHandshake(.psk)
            }
            return
        }
        let failure = transport.handshakeFailure?.description ?? "closed during the handshake"
        let timedOut = transport.didHandshakeTimeOut
        protection.tlsHandshake(timedOut ? .timedOut : .failed)
        let peer = transport.remoteAddress.map { "\($0)" } ?? "?"
        logThrottle.log(timedOut ? "tls-timeout" : "tls-failed") { suppressed in
            log.notice("TLS handshake from \(peer) failed: \(failure)\(suppressed.suppressedSuffix)")
        }
    }
}
