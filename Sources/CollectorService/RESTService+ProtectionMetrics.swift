// The defences' part of `/metrics`: connection limits and refusals, timeouts, HTTP/2 floods, and the memory held
// for partially received requests.

extension RESTService {
    /// Appends the protection families to a Prometheus exposition.
    func appendProtectionMetrics(_ figures: ServerFigures, to text: inout PrometheusText) {
        if let limits = figures.connectionLimits {
            text.family("fleetwire_open_sockets", "gauge",
                        "Accepted connections still open, whatever their protocol (the count the limits apply to).")
            text.sample("fleetwire_open_sockets", [], Int64(limits.openSockets))
            text.family("fleetwire_connection_limit", "gauge", "Connection limits in force.")
            text.sample("fleetwire_connection_limit", [("scope", "total")], Int64(limits.maxConnections))
            text.sample("fleetwire_connection_limit", [("scope", "per_address")],
                        Int64(limits.maxConnectionsPerAddress))
            text.family("fleetwire_connections_refused_total", "counter",
                        "Connections closed right after accept because a limit was reached.")
            text.sample("fleetwire_connections_refused_total", [("limit", "total")], Int64(limits.refusedOverTotal))
            text.sample("fleetwire_connections_refused_total", [("limit", "per_address")],
                        Int64(limits.refusedOverAddress))
        }
        let timeouts = protection.timeoutCounts()
        text.family("fleetwire_timeouts_total", "counter",
                    "Requests or connections ended by a timeout: header, request (body), stream_idle, idle, write.")
        for kind in ProtectionTimeout.allCases {
            text.sample("fleetwire_timeouts_total", [("timeout", kind.rawValue)], timeouts[kind] ?? 0)
        }
        text.family("fleetwire_http2_floods_total", "counter",
                    "HTTP/2 connections ended with GOAWAY(ENHANCE_YOUR_CALM) as a flood, by what ran out.")
        for (reason, count) in protection.floodCounts().sorted(by: { $0.key < $1.key }) {
            text.sample("fleetwire_http2_floods_total", [("reason", reason)], count)
        }
        let handshakes = protection.handshakeCounts()
        text.family("fleetwire_tls_handshakes_total", "counter",
                    "TLS handshakes by outcome: full, resumed, psk, failed, timed_out, refused_busy.")
        for outcome in TLSHandshakeOutcome.allCases {
            text.sample("fleetwire_tls_handshakes_total", [("outcome", outcome.rawValue)], handshakes[outcome] ?? 0)
        }
        text.family("fleetwire_plaintext_refused_total", "counter",
                    "Plaintext connections refused with 426 or GOAWAY because of --plaintext deny.")
        text.sample("fleetwire_plaintext_refused_total", [], protection.plaintextRefusedCount())
        text.family("fleetwire_buffered_request_bytes", "gauge",
                    "Bytes held for partially received requests, all connections (bounded by the next family).")
        text.sample("fleetwire_buffered_request_bytes", [], Int64(figures.bufferedRequestBytes))
        text.family("fleetwire_buffered_request_bytes_limit", "gauge", "The limit on fleetwire_buffered_request_bytes.")
        text.sample("fleetwire_buffered_request_bytes_limit", [], Int64(figures.bufferedRequestBytesLimit))
    }
}
