// Per-device rows as CSV (`--csv devices.csv`): RFC 4180, comma-separated, `\n` line ends, one header line, one line
// per device in device-id order. Columns:
//
//     device, protocol, readings_generated, readings_sent, readings_acked, readings_stored, readings_dropped,
//     batches_generated, batches_sent, batches_acked, batches_retried, batches_dropped_full,
//     batches_dropped_rejected, duplicate_batches, buffered_batches, bytes_sent, bytes_received, bytes_per_reading,
//     handshakes_full, handshakes_resumed, handshakes_psk, tls_handshake_bytes_sent, tls_handshake_bytes_received,
//     tls_record_bytes_sent, tls_record_bytes_received, segments_sent, segments_received,
//     estimated_link_bytes_per_reading, connections, calls, errors, errors_refused, errors_reset, errors_closed, errors_timeout, errors_unavailable,
//     errors_rejected, errors_malformed, latency_mean_ms, latency_max_ms
//
// Counts are plain integers; bytes_per_reading and latencies have four decimals (`5.2042`) and are empty when
// undefined (no readings acknowledged). A field that contains a comma, quote or line break is quoted with `"` and
// inner quotes doubled (device ids cannot contain any, but the writer does not rely on it).

extension FleetReport {
    /// The CSV header's column names, in order.
    public static let csvColumns: [String] =
        [
            "device", "protocol", "readings_generated", "readings_sent", "readings_acked", "readings_stored",
            "readings_dropped", "batches_generated", "batches_sent", "batches_acked", "batches_retried",
            "batches_dropped_full", "batches_dropped_rejected", "duplicate_batches", "buffered_batches", "bytes_sent",
            "bytes_received", "bytes_per_reading", "handshakes_full", "handshakes_resumed", "handshakes_psk",
            "tls_handshake_bytes_sent", "tls_handshake_bytes_received", "tls_record_bytes_sent",
            "tls_record_bytes_received", "segments_sent", "segments_received", "estimated_link_bytes_per_reading",
            "connections", "calls", "errors",
        ] + ErrorKind.allCases.map { "errors_" + $0.name } + ["latency_mean_ms", "latency_max_ms"]

    /// The per-device CSV; see above.
    public func renderCSV() -> String {
        var out = Self.csvColumns.joined(separator: ",") + "\n"
        for device in devices {
            let stats = device.statistics
            var fields = [Self.quoted(device.deviceID), device.deviceProtocol.name]
            let counts: [Int64] = [
                stats.readingsGenerated, stats.readingsSent, stats.readingsAcked, stats.readingsStored,
                stats.readingsDropped, stats.batchesGenerated, stats.batchesSent, stats.batchesAcked,
                stats.batchesRetried, stats.batchesDroppedFull, stats.batchesDroppedRejected, stats.duplicateBatches,
                Int64(device.bufferedBatches), stats.bytesSent, stats.bytesReceived,
            ]
            fields += counts.map(String.init)
            fields.append(stats.bytesPerReading.map(Self.decimal) ?? "")
            let link: [Int64] = [
                stats.handshakes.full, stats.handshakes.resumed, stats.handshakes.psk, stats.tls.handshakeSent,
                stats.tls.handshakeReceived, stats.tls.recordSent, stats.tls.recordReceived, stats.segmentsSent,
                stats.segmentsReceived,
            ]
            fields += link.map(String.init)
            fields.append(stats.estimatedLinkBytesPerReading.map(Self.decimal) ?? "")
            fields += [stats.connections, stats.calls, stats.errors.total].map(String.init)
            fields += ErrorKind.allCases.map { String(stats.errors[$0]) }
            fields.append(stats.latency.meanNs.map { Self.decimal($0 / 1e6) } ?? "")
            fields.append(stats.latency.count > 0 ? Self.decimal(Double(stats.latency.maxNs) / 1e6) : "")
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Four decimals, no grouping.
    private static func decimal(_ value: Double) -> String {
        NumberText.fixed(value, decimals: 4).filter { $0 != "," }
    }

    /// A field quoted when it needs to be.
    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return field }
        var out = "\""
        for character in field {
            if character == "\"" { out.append("\"") }
            out.append(character)
        }
        return out + "\""
    }
}
