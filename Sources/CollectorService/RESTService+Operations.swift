// `/readyz` and `/metrics`.
//
// Ready means: the store is open, its queue is below 90 % of either bound, the database file is writable, and the
// store's latest write did not fail (disk full, read-only, I/O error: the store's `StorageHealth`). `/metrics` is
// the Prometheus text exposition format 0.0.4 (PrometheusText.swift); the figures only the server knows come
// through `ServerFigureSource`.

import Accounting
import Glibc
import Storage

extension RESTService {
    /// Why the collector should not take traffic now, each as a short sentence; empty when it is ready. The one
    /// decision behind `/readyz` and the gRPC Health service's SERVING / NOT_SERVING.
    package func readinessProblems() -> [String] {
        store.readinessProblems()
    }

    func readiness() throws(RESTError) -> RESTResponse {
        let problems = readinessProblems()
        guard problems.isEmpty else { throw .unavailable("not ready: " + problems.joined(separator: "; ")) }
        return .json(200, Array(#"{"status":"ready"}"#.utf8))
    }

    func metrics() -> RESTResponse {
        var text = PrometheusText()
        // On a database several collectors share, each reports its own share under a `collector` label (Prometheus
        // sums the replicas); alone, the figures are the whole fleet's, unlabelled as before.
        let collector = store.sharedCollectorName
        let collectorLabel = collector.map { [("collector", $0)] } ?? []
        let perProtocol = ledger.perProtocol(ownOnly: collector != nil).sorted { $0.key < $1.key }
        text.family("fleetwire_bytes_total", "counter", "Bytes on the wire by protocol and direction.")
        for (name, counters) in perProtocol {
            text.sample("fleetwire_bytes_total", collectorLabel + [("protocol", name), ("direction", "in")], counters.bytesIn.total)
            text.sample("fleetwire_bytes_total", collectorLabel + [("protocol", name), ("direction", "out")], counters.bytesOut.total)
        }
        let directional: [(String, String, (BandwidthCounters) -> (in: Int64, out: Int64))] = [
            ("fleetwire_tls_handshake_bytes_total", "TLS handshake bytes by protocol and direction (part of "
                + "fleetwire_bytes_total).", { ($0.bytesIn.tlsHandshake, $0.bytesOut.tlsHandshake) }),
            ("fleetwire_tls_record_bytes_total", "TLS record overhead bytes by protocol and direction (part of "
                + "fleetwire_bytes_total).", { ($0.bytesIn.tlsRecord, $0.bytesOut.tlsRecord) }),
            ("fleetwire_segments_total", "TCP segments by protocol and direction, as the kernel counted them.",
             { ($0.segmentsIn, $0.segmentsOut) }),
        ]
        for (name, help, value) in directional {
            text.family(name, "counter", help)
            for (protocolName, counters) in perProtocol {
                let both = value(counters)
                text.sample(name, collectorLabel + [("protocol", protocolName), ("direction", "in")], both.in)
                text.sample(name, collectorLabel + [("protocol", protocolName), ("direction", "out")], both.out)
            }
        }
        let counts: [(String, String, (BandwidthCounters) -> Int64)] = [
            ("fleetwire_readings_total", "Readings newly stored.", { $0.readings }),
            ("fleetwire_batches_total", "Batches received and committed.", { $0.batches }),
            ("fleetwire_duplicate_batches_total", "Batches that were already stored.", { $0.duplicateBatches }),
            ("fleetwire_calls_total", "gRPC calls and HTTP requests.", { $0.calls }),
            ("fleetwire_connections_total", "Connections accepted.", { $0.connections }),
            ("fleetwire_estimated_link_bytes_total",
             "ESTIMATE of link bytes both ways: socket bytes + 52 (IPv4 + TCP with timestamps) per TCP segment.",
             { $0.estimatedLinkBytes }),
        ]
        for (name, help, value) in counts {
            text.family(name, "counter", help)
            for (protocolName, counters) in perProtocol { text.sample(name, collectorLabel + [("protocol", protocolName)], value(counters)) }
        }
        let figures = server.serverFigures()
        let socket = figures.socket
        text.family("fleetwire_socket_bytes_total", "counter", "Bytes read from and written to all sockets.")
        text.sample("fleetwire_socket_bytes_total", [("direction", "in")], socket.bytesRead)
        text.sample("fleetwire_socket_bytes_total", [("direction", "out")], socket.bytesWritten)
        text.family("fleetwire_errors_total", "counter", "Responses with an error status, by transport and code.")
        for (key, count) in operations.errorCounts().sorted(by: { $0.key < $1.key }) {
            text.sample("fleetwire_errors_total", [("transport", key.transport), ("code", key.code)], count)
        }
        text.family("fleetwire_open_connections", "gauge", "Open connections by the protocol of their first request.")
        for (name, count) in operations.openConnectionCounts().sorted(by: { $0.key < $1.key }) {
            text.sample("fleetwire_open_connections", [("protocol", name)], Int64(count))
        }
        appendProtectionMetrics(figures, to: &text)
        let writer = store.metrics()
        text.family("fleetwire_store_queue_batches", "gauge", "Batches waiting for the store's writer.")
        text.sample("fleetwire_store_queue_batches", [], Int64(writer.queuedBatches))
        text.family("fleetwire_store_queue_readings", "gauge", "Readings waiting for the store's writer.")
        text.sample("fleetwire_store_queue_readings", [], Int64(writer.queuedReadings))
        text.family("fleetwire_store_commits_total", "counter", "Transactions committed by the store's writer.")
        text.sample("fleetwire_store_commits_total", [], Int64(writer.commits))
        text.family("fleetwire_store_commit_failures_total", "counter", "Transactions that failed to commit.")
        text.sample("fleetwire_store_commit_failures_total", [], Int64(writer.failedCommits))
        let health = store.storageHealth()
        text.family("fleetwire_store_failing", "gauge", "1 while the store's writes fail (disk full, read-only, I/O).")
        text.sample("fleetwire_store_failing", [], Int64(health.isFailing ? 1 : 0))
        text.family("fleetwire_store_failed_writes_total", "counter", "Transactions or refused writes that failed.")
        text.sample("fleetwire_store_failed_writes_total", [], Int64(health.failedWrites))
        text.family(
            "fleetwire_store_wal_restart_checkpoints_total", "counter",
            "Checkpoints the writer ran between transactions so that the WAL starts over.")
        text.sample("fleetwire_store_wal_restart_checkpoints_total", [], Int64(writer.walRestartCheckpoints))
        for (name, help, value) in [
            ("fleetwire_store_chunks_written_total", "Chunk rows written by batches.", writer.chunksWritten),
            ("fleetwire_store_merged_series_writes_total",
             "Series entries of batches merged into stored chunks (late, out of order or overlapping).",
             writer.mergedSeriesWrites),
            ("fleetwire_store_chunks_compacted_total", "Small chunks merged away by compaction.", writer.chunksCompacted),
            ("fleetwire_store_readings_expired_total", "Readings deleted by --retention.", writer.readingsExpired),
            ("fleetwire_store_maintenance_failures_total", "Compaction or retention transactions that failed.",
             writer.maintenanceFailures),
        ] {
            text.family(name, "counter", help)
            text.sample(name, [], Int64(value))
        }
        text.histogram("fleetwire_store_commit_duration_seconds", "Time from BEGIN to COMMIT.", writer.commitLatency)
        text.histogram(
            "fleetwire_store_batch_latency_seconds",
            "Time from a batch entering the store's queue to the end of its transaction's COMMIT.", writer.batchLatency)
        text.histogram(
            "fleetwire_watch_delivery_seconds",
            "Time from a live batch's COMMIT to its DeviceBatch being handed to a watcher's stream (sent in the same "
                + "turn of the loop); one observation per watcher.", operations.watchDeliveryLatency())
        text.family("fleetwire_process_resident_memory_bytes", "gauge", "Resident set size of the collector.")
        text.sample("fleetwire_process_resident_memory_bytes", [], System.residentBytes() ?? 0)
        return RESTResponse(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                            body: Array(text.text.utf8))
    }
}
