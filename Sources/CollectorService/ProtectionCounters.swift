// What the collector's defences did: timeouts that ended requests or connections, HTTP/2 floods answered with
// GOAWAY(ENHANCE_YOUR_CALM), TLS handshakes by outcome, plaintext connections refused. Connection refusals are counted by the listener's ConnectionLimiter. Read by /metrics.

import Synchronization

/// Thread-safe tallies of the defences at work.
package final class ProtectionCounters: Sendable {
    private struct State {
        var timeouts: [ProtectionTimeout: Int64] = [:]
        var floods: [String: Int64] = [:]
        var handshakes: [TLSHandshakeOutcome: Int64] = [:]
        var plaintextRefused: Int64 = 0
    }
    private let state = Mutex(State())

    /// Counters at zero.
    package init() {}

    /// A timeout fired.
    package func timedOut(_ kind: ProtectionTimeout) {
        state.withLock { $0.timeouts[kind, default: 0] += 1 }
    }

    /// An HTTP/2 connection was ended as a flood (`reason`: HTTP2Flood's raw value).
    package func flood(_ reason: String) {
        state.withLock { $0.floods[reason, default: 0] += 1 }
    }

    /// A TLS handshake ended (or was refused before it began).
    package func tlsHandshake(_ outcome: TLSHandshakeOutcome) {
        state.withLock { $0.handshakes[outcome, default: 0] += 1 }
    }

    /// A plaintext connection was refused (`--plaintext deny`).
    package func plaintextRefused() {
        state.withLock { $0.plaintextRefused += 1 }
    }

    func handshakeCounts() -> [TLSHandshakeOutcome: Int64] { state.withLock { $0.handshakes } }
    func plaintextRefusedCount() -> Int64 { state.withLock { $0.plaintextRefused } }
    func timeoutCounts() -> [ProtectionTimeout: Int64] { state.withLock { $0.timeouts } }
    func floodCounts() -> [String: Int64] { state.withLock { $0.floods } }
}

/// How a TLS handshake ended, for `fleetwire_tls_handshakes_total`.
package enum TLSHandshakeOutcome: String, CaseIterable, Sendable {
    /// Completed with the certificate.
    case full
    /// Completed by resuming a session ticket.
    case resumed
    /// Completed with a device's external PSK.
    case psk
    /// Refused by the TLS layer (bad or old ClientHello, unknown or revoked PSK identity, garbage): an alert or close.
    case failed
    /// Not finished within the handshake timeout.
    case timedOut = "timed_out"
    /// Closed at its first byte: the limit on handshakes in progress was reached.
    case refusedBusy = "refused_busy"
}
