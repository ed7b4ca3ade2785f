import Postgres
import Storage

// The persisted bandwidth counters and their history. Each collector adds only to its own rows; the fleet's
// figures are the sums over collectors (schema/postgresql.sql), computed here.

extension PostgresReader {
    /// The `bandwidth` rows per (protocol, device), by protocol then device: summed over all collectors with the
    /// latest `updated_ms` when `collector` is nil, else only that collector's rows.
    func counters(collector: String?) throws(StoreError) -> [CounterRow] {
        let sums = Self.amountColumns.map { "sum(\($0))" }.joined(separator: ", ")
        let rows = try readAlone(
            #"""
            SELECT protocol, device, \#(sums), max(updated_ms) FROM bandwidth
            WHERE $1::text IS NULL OR collector = $1
            GROUP BY protocol, device
            ORDER BY protocol COLLATE "C", device COLLATE "C"
            """#, [collector.map { .text($0) }], operation: "read bandwidth counters")
        var result: [CounterRow] = []
        result.reserveCapacity(rows.count)
        let end = 2 + CounterDelta.amountCount
        for row in rows {
            var amounts: [UInt64] = []
            amounts.reserveCapacity(CounterDelta.amountCount)
            for index in 2..<end { amounts.append(try row.clampedAmount(index)) }
            let totals = CounterDelta(protocolName: try row.text(0), device: try row.text(1), amounts: amounts)
            result.append(CounterRow(totals: totals, updatedMs: try row.int(end)))
        }
        return result
    }

    /// The collectors having `bandwidth` rows, sorted.
    func counterCollectors() throws(StoreError) -> [String] {
        let rows = try readAlone(
            #"SELECT collector FROM bandwidth GROUP BY collector ORDER BY collector COLLATE "C""#,
            operation: "list bandwidth collectors")
        var result: [String] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append(try row.text(0)) }
        return result
    }

    /// History summed over collectors into `stepMs` steps per protocol (a step's start floored toward −∞), over
    /// the base buckets starting in `[lowMs, highMs]`.
    func counterHistory(stepMs: Int64, lowMs: Int64, highMs: Int64) throws(StoreError) -> [HistoryBucket] {
        guard stepMs > 0 else { throw .invalidArgument("stepMs must be positive, got \(stepMs)") }
        guard lowMs <= highMs else { return [] }
        let rows = try readAlone(
            #"""
            SELECT CASE WHEN bucket_ms >= 0 THEN bucket_ms - bucket_ms % $1
                    ELSE bucket_ms - ((bucket_ms % $1) + $1) % $1 END AS step,
                protocol, sum(bytes_in), sum(bytes_out), sum(readings)
            FROM bandwidth_history WHERE bucket_ms BETWEEN $2 AND $3
            GROUP BY step, protocol ORDER BY step, protocol COLLATE "C"
            """#, [.int(stepMs), .int(lowMs), .int(highMs)], operation: "read bandwidth history")
        var buckets: [HistoryBucket] = []
        buckets.reserveCapacity(rows.count)
        for row in rows {
            buckets.append(
                HistoryBucket(
                    startMs: try row.int(0), protocolName: try row.text(1), bytesIn: try row.clampedAmount(2),
                    bytesOut: try row.clampedAmount(3), readings: try row.clampedAmount(4)))
        }
        return buckets
    }

    /// The amount columns of `bandwidth`, in `CounterDelta.amounts` order.
    static let amountColumns = [
        "bytes_in", "bytes_out", "header_bytes_in", "header_bytes_out", "framing_bytes_in", "framing_bytes_out",
        "payload_bytes_in", "payload_bytes_out", "tls_handshake_bytes_in", "tls_handshake_bytes_out",
        "tls_record_bytes_in", "tls_record_bytes_out", "readings", "batches", "duplicate_batches", "calls",
        "connections", "errors", "segments_in", "segments_out",
    ]
}
