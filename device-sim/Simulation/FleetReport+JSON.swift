// The report as JSON (`--json report.json`), compact, written with Telemetry's `JSONWriter`. Shape:
//
//     {
//       "run": {"devices": 100, "protocol": "mixed", "connect_codec": null | "proto" | "json" (null unless connect
//               devices ran), "web_http": null | "1.1" | "2" (null unless grpc-web, grpc-web-text or connect
//               devices ran), "seed": 42, "sensors": ["temperature", ...],
//               "interval_ms": 1000, "batch_ms": 10000, "pacing": "speedup", "speedup": 60.0,
//               "elapsed_ms": 60000.0, "simulated_ms": 3600000,           // speedup null and simulated_ms null at
//                                                                          // max-rate ("pacing": "max-rate")
//               "tls": false, "tls_auth": null | "token" | "psk", "connection": "keep" | "per-batch",
//               "resumption": true},
//       "protocols": [ {"protocol": "grpc-stream", "devices": 34, <counters>, "buffered_batches": 0,
//                       "bytes_per_reading": 5.2, "ratio_to_best": 1.0, <latency>}, ... ],
//       "total": {"devices": 100, <counters>, "buffered_batches": 0, "bytes_per_reading": 7.9, <latency>,
//                 "devices_stopped": 0},                                 // stopped by an authentication refusal
//       "highest_bytes_per_reading": {"device": "dev-00003", "protocol": "rest", "bytes_per_reading": 58.2},
//       "lowest_bytes_per_reading": {...},                                 // both null without readings
//       "cross_check": null | {"consistent": true, "devices_compared": 100, "collector_only_rows": 0,
//                              "devices_not_compared": 0,
//                              "protocols": [<comparison>, ...], "device_mismatches": [<comparison>, ...]},
//       "devices": [ {"device": "dev-00001", "protocol": "grpc-stream", <counters>, "buffered_batches": 0,
//                     "bytes_per_reading": 5.1, "latency_mean_ms": 1.2, "latency_max_ms": 4.0,
//                     "stopped_by": null | "http 401" | "grpc-status 16" | ...}, ... ]
//     }
//
// <counters>: readings_generated, readings_sent, readings_acked, readings_stored, readings_dropped,
// batches_generated, batches_sent, batches_acked, batches_retried, batches_dropped_full, batches_dropped_rejected,
// duplicate_batches, bytes_sent, bytes_received (socket bytes: ciphertext over TLS), handshakes_full,
// handshakes_resumed, handshakes_psk, tls_handshake_bytes_sent, tls_handshake_bytes_received, tls_record_bytes_sent,
// tls_record_bytes_received (the TLS part of the bytes), segments_sent, segments_received (TCP, from the kernel),
// estimated_link_bytes_per_reading (socket bytes + 52 per segment, an estimate; null without readings),
// connections, calls, errors (total), and "errors_by_kind":
// {"refused": 0, "reset": 0, "closed": 0, "timeout": 0, "unavailable": 0, "rejected": 0, "malformed": 0}.
// <latency>: latency_p50_ms, latency_p99_ms, latency_p999_ms, latency_mean_ms, latency_max_ms (null when empty).
// <comparison>: {"protocol", "collector_protocol", "device" (device rows only), "match",
// "simulator": {"bytes_in", "bytes_out", "readings", and when known "tls_handshake_bytes_in/out",
// "tls_record_bytes_in/out", "segments_in/out"}, "collector": {...} or null}; directions are the
// collector's (bytes_in = what the devices sent). Ratios and per-reading figures are unrounded Doubles; null where
// undefined (no readings). `devices` is left out when `includeDevices` is false.

import Telemetry

extension FleetReport {
    /// The report as JSON bytes; see above.
    public func renderJSON(includeDevices: Bool = true) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 4096 + (includeDevices ? devices.count * 700 : 0))
        writer.beginObject()
        writer.key("run")
        writeRun(into: &writer)
        writer.key("protocols")
        writer.beginArray()
        for row in protocols {
            writer.beginObject()
            writer.key("protocol")
            writer.value(row.deviceProtocol.name)
            writer.key("devices")
            writer.value(row.devices)
            Self.writeCounters(row.statistics, buffered: row.bufferedBatches, into: &writer)
            writer.key("ratio_to_best")
            Self.write(row.ratioToBest, into: &writer)
            Self.writeLatency(row.latency, into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.key("total")
        writer.beginObject()
        writer.key("devices")
        writer.value(devices.count)
        Self.writeCounters(total, buffered: totalBufferedBatches, into: &writer)
        Self.writeLatency(totalLatency, into: &writer)
        writer.key("devices_stopped")
        writer.value(stoppedDevices.reduce(0) { $0 + $1.count })
        writer.endObject()
        for (key, device) in [
            ("highest_bytes_per_reading", highestBytesPerReading),
            ("lowest_bytes_per_reading", lowestBytesPerReading),
        ] {
            writer.key(key)
            guard let device else {
                writer.null()
                continue
            }
            writer.beginObject()
            writer.key("device")
            writer.value(device.deviceID)
            writer.key("protocol")
            writer.value(device.deviceProtocol.name)
            writer.key("bytes_per_reading")
            Self.write(device.statistics.bytesPerReading, into: &writer)
            writer.endObject()
        }
        writer.key("cross_check")
        if let crossCheck { Self.writeCrossCheck(crossCheck, into: &writer) } else { writer.null() }
        if includeDevices {
            writer.key("devices")
            writer.beginArray()
            for device in devices {
                writer.beginObject()
                writer.key("device")
                writer.value(device.deviceID)
                writer.key("protocol")
                writer.value(device.deviceProtocol.name)
                Self.writeCounters(device.statistics, buffered: device.bufferedBatches, into: &writer)
                writer.key("latency_mean_ms")
                Self.write(device.statistics.latency.meanNs.map { $0 / 1e6 }, into: &writer)
                writer.key("latency_max_ms")
                let latency = device.statistics.latency
                Self.write(latency.count > 0 ? Double(latency.maxNs) / 1e6 : nil, into: &writer)
                writer.key("stopped_by")
                if let stoppedBy = device.stoppedBy { writer.value(stoppedBy.description) } else { writer.null() }
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    private func writeRun(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("devices")
        writer.value(run.deviceCount)
        writer.key("protocol")
        writer.value(run.protocolMode.name)
        writer.key("connect_codec")
        if let codec = run.connectCodecUsed { writer.value(codec.name) } else { writer.null() }
        writer.key("web_http")
        if let webHTTP = run.webHTTPUsed { writer.value(webHTTP.name) } else { writer.null() }
        writer.key("seed")
        writer.value(run.seed)
        writer.key("sensors")
        writer.beginArray()
        for sensor in run.sensors { writer.value(sensor.name) }
        writer.endArray()
        writer.key("interval_ms")
        writer.value(run.intervalMs)
        writer.key("batch_ms")
        writer.value(run.batchMs)
        writer.key("pacing")
        switch run.pacing {
        case .speedup(let speedup):
            writer.value("speedup")
            writer.key("speedup")
            writer.value(speedup)
        case .maxRate:
            writer.value("max-rate")
            writer.key("speedup")
            writer.null()
        }
        writer.key("elapsed_ms")
        writer.value(Double(run.elapsedNs) / 1e6)
        writer.key("simulated_ms")
        if let simulatedMs = run.simulatedMs { writer.value(simulatedMs) } else { writer.null() }
        writer.key("tls")
        writer.value(run.link.isTLS)
        writer.key("tls_auth")
        if let tls = run.link.tls { writer.value(tls.name) } else { writer.null() }
        writer.key("connection")
        writer.value(run.link.connectionMode.name)
        writer.key("resumption")
        writer.value(run.link.resumption)
        writer.endObject()
    }

    private static func writeCounters(_ stats: DeviceStatistics, buffered: Int, into writer: inout JSONWriter) {
        let fields: [(String, Int64)] = [
            ("readings_generated", stats.readingsGenerated), ("readings_sent", stats.readingsSent),
            ("readings_acked", stats.readingsAcked), ("readings_stored", stats.readingsStored),
            ("readings_dropped", stats.readingsDropped), ("batches_generated", stats.batchesGenerated),
            ("batches_sent", stats.batchesSent), ("batches_acked", stats.batchesAcked),
            ("batches_retried", stats.batchesRetried), ("batches_dropped_full", stats.batchesDroppedFull),
            ("batches_dropped_rejected", stats.batchesDroppedRejected), ("duplicate_batches", stats.duplicateBatches),
            ("bytes_sent", stats.bytesSent), ("bytes_received", stats.bytesReceived),
            ("handshakes_full", stats.handshakes.full), ("handshakes_resumed", stats.handshakes.resumed),
            ("handshakes_psk", stats.handshakes.psk), ("tls_handshake_bytes_sent", stats.tls.handshakeSent),
            ("tls_handshake_bytes_received", stats.tls.handshakeReceived),
            ("tls_record_bytes_sent", stats.tls.recordSent), ("tls_record_bytes_received", stats.tls.recordReceived),
            ("segments_sent", stats.segmentsSent), ("segments_received", stats.segmentsReceived),
            ("connections", stats.connections), ("calls", stats.calls), ("errors", stats.errors.total),
            ("buffered_batches", Int64(buffered)),
        ]
        for (name, value) in fields {
            writer.key(name)
            writer.value(value)
        }
        writer.key("errors_by_kind")
        writer.beginObject()
        for kind in ErrorKind.allCases {
            writer.key(kind.name)
            writer.value(stats.errors[kind])
        }
        writer.endObject()
        writer.key("bytes_per_reading")
        write(stats.bytesPerReading, into: &writer)
        writer.key("estimated_link_bytes_per_reading")
        write(stats.estimatedLinkBytesPerReading, into: &writer)
    }

    private static func writeLatency(_ latency: LatencyPercentiles, into writer: inout JSONWriter) {
        let fields: [(String, Double?)] = [
            ("latency_p50_ms", latency.p50Ns.map { Double($0) / 1e6 }),
            ("latency_p99_ms", latency.p99Ns.map { Double($0) / 1e6 }),
            ("latency_p999_ms", latency.p999Ns.map { Double($0) / 1e6 }),
            ("latency_mean_ms", latency.meanNs.map { $0 / 1e6 }),
            ("latency_max_ms", latency.maxNs.map { Double($0) / 1e6 }),
        ]
        for (name, value) in fields {
            writer.key(name)
            write(value, into: &writer)
        }
    }

    private static func writeCrossCheck(_ check: CrossCheck, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("consistent")
        writer.value(check.isConsistent)
        writer.key("devices_compared")
        writer.value(check.devicesCompared)
        writer.key("collector_only_rows")
        writer.value(check.collectorOnlyRows)
        writer.key("devices_not_compared")
        writer.value(check.devicesNotCompared)
        for (key, rows) in [("protocols", check.protocols), ("device_mismatches", check.deviceMismatches)] {
            writer.key(key)
            writer.beginArray()
            for row in rows { writeComparison(row, into: &writer) }
            writer.endArray()
        }
        writer.endObject()
    }

    private static func writeComparison(_ row: CrossCheck.Comparison, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("protocol")
        writer.value(row.deviceProtocol.name)
        writer.key("collector_protocol")
        writer.value(row.deviceProtocol.collectorName)
        if let deviceID = row.deviceID {
            writer.key("device")
            writer.value(deviceID)
        }
        writer.key("match")
        writer.value(row.isMatch)
        for (key, counts) in [("simulator", Optional(row.simulator)), ("collector", row.collector)] {
            writer.key(key)
            guard let counts else {
                writer.null()
                continue
            }
            writer.beginObject()
            writer.key("bytes_in")
            writer.value(counts.bytesIn)
            writer.key("bytes_out")
            writer.value(counts.bytesOut)
            writer.key("readings")
            writer.value(counts.readings)
            if let tls = counts.tls {
                for (name, value) in [
                    ("tls_handshake_bytes_in", tls.handshakeSent), ("tls_handshake_bytes_out", tls.handshakeReceived),
                    ("tls_record_bytes_in", tls.recordSent), ("tls_record_bytes_out", tls.recordReceived),
                ] {
                    writer.key(name)
                    writer.value(value)
                }
            }
            if let segments = counts.segments {
                writer.key("segments_in")
                writer.value(segments.sent)
                writer.key("segments_out")
                writer.value(segments.received)
            }
            writer.endObject()
        }
        writer.endObject()
    }

    private static func write(_ value: Double?, into writer: inout JSONWriter) {
        if let value { writer.value(value) } else { writer.null() }
    }
}
