// Adding bandwidth counter deltas inside the writer's transaction, as the SQLite writer does
// (GroupCommitWriter+Counters.swift), to this collector's rows only.
//
// Rules: every row written is keyed by this collector's name (schema/postgresql.sql: no two collectors ever update
// one counter row; readers sum over collectors). The transaction's flushes are summed per (protocol, device) and per
// (history bucket, protocol) first, so one multi-row upsert touches each row once, in key order. A history bucket
// starts at floor(atMs / historyBucketMs) * historyBucketMs, floored toward -inf; a delta without bytes or
// readings adds no history. Amounts beyond Int64 are clamped, as in SQLite.

import Postgres
import Storage

extension PostgresWriter {
    /// The upserts adding `flushes` to `bandwidth` and `bandwidth_history` (none when there is nothing to add).
    func countersStatements(_ flushes: [CounterFlush]) -> [PostgresStatement] {
        var rows: [BandwidthKey: (amounts: [Int64], updatedMs: Int64)] = [:]
        var history: [HistoryKey: (bytesIn: Int64, bytesOut: Int64, readings: Int64)] = [:]
        for flush in flushes {
            let bucketMs = Self.floorToMultiple(flush.atMs, of: configuration.historyBucketMs)
            for delta in flush.deltas {
                let key = BandwidthKey(protocolName: delta.protocolName, device: delta.device)
                var row = rows[key] ?? (Array(repeating: 0, count: CounterDelta.amountCount), flush.atMs)
                for (index, amount) in delta.amounts.enumerated() {
                    row.amounts[index] = row.amounts[index] &+ Int64(clamping: amount)
                }
                row.updatedMs = max(row.updatedMs, flush.atMs)
                rows[key] = row
                guard delta.bytesIn != 0 || delta.bytesOut != 0 || delta.readings != 0 else { continue }
                let historyKey = HistoryKey(bucketMs: bucketMs, protocolName: delta.protocolName)
                var sums = history[historyKey] ?? (0, 0, 0)
                sums.bytesIn = sums.bytesIn &+ Int64(clamping: delta.bytesIn)
                sums.bytesOut = sums.bytesOut &+ Int64(clamping: delta.bytesOut)
                sums.readings = sums.readings &+ Int64(clamping: delta.readings)
                history[historyKey] = sums
            }
        }
        var statements: [PostgresStatement] = []
        if !rows.isEmpty {
            let keys = rows.keys.sorted(by: BandwidthKey.precedes)
            var parameters: [PostgresValue?] = [
                .text(configuration.collectorName), PostgresArrayText.texts(keys.map(\.protocolName)),
                PostgresArrayText.texts(keys.map(\.device)),
            ]
            for column in 0..<CounterDelta.amountCount {
                parameters.append(PostgresArrayText.integers(keys.map { rows[$0]!.amounts[column] }))
            }
            parameters.append(PostgresArrayText.integers(keys.map { rows[$0]!.updatedMs }))
            statements.append(PostgresStatement(Self.upsertBandwidthSQL, parameters: parameters))
        }
        if !history.isEmpty {
            let keys = history.keys.sorted(by: HistoryKey.precedes)
            statements.append(
                PostgresStatement(
                    """
                    INSERT INTO bandwidth_history (collector, bucket_ms, protocol, bytes_in, bytes_out, readings)
                    SELECT $1::text, b, p, i, o, r
                    FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
                        WITH ORDINALITY AS v(b, p, i, o, r, n)
                    ORDER BY n
                    ON CONFLICT (collector, bucket_ms, protocol) DO UPDATE SET
                        bytes_in = bandwidth_history.bytes_in + EXCLUDED.bytes_in,
                        bytes_out = bandwidth_history.bytes_out + EXCLUDED.bytes_out,
                        readings = bandwidth_history.readings + EXCLUDED.readings
                    """,
                    parameters: [
                        .text(configuration.collectorName), PostgresArrayText.integers(keys.map(\.bucketMs)),
                        PostgresArrayText.texts(keys.map(\.protocolName)),
                        PostgresArrayText.integers(keys.map { history[$0]!.bytesIn }),
                        PostgresArrayText.integers(keys.map { history[$0]!.bytesOut }),
                        PostgresArrayText.integers(keys.map { history[$0]!.readings }),
                    ]))
        }
        return statements
    }

    /// The amount columns of `bandwidth`, in `CounterDelta.amounts` order.
    static let amountColumns = [
        "bytes_in", "bytes_out", "header_bytes_in", "header_bytes_out", "framing_bytes_in", "framing_bytes_out",
        "payload_bytes_in", "payload_bytes_out", "tls_handshake_bytes_in", "tls_handshake_bytes_out",
        "tls_record_bytes_in", "tls_record_bytes_out", "readings", "batches", "duplicate_batches", "calls",
        "connections", "errors", "segments_in", "segments_out",
    ]

    /// The multi-row upsert of `bandwidth`: $1 the collector, $2/$3 protocols and devices, $4… one array per
    /// amount column, then the update times.
    static let upsertBandwidthSQL: String = {
        let columns = amountColumns
        let arrays = columns.indices.map { "$\($0 + 4)::bigint[]" }.joined(separator: ", ")
        let names = columns.indices.map { "a\($0)" }.joined(separator: ", ")
        let updates = columns.map { "\($0) = bandwidth.\($0) + EXCLUDED.\($0)" }.joined(separator: ",\n    ")
        return """
            INSERT INTO bandwidth (collector, protocol, device, \(columns.joined(separator: ", ")), updated_ms)
            SELECT $1::text, p, d, \(names), u
            FROM unnest($2::text[], $3::text[], \(arrays), $\(columns.count + 4)::bigint[])
                WITH ORDINALITY AS v(p, d, \(names), u, n)
            ORDER BY n
            ON CONFLICT (collector, protocol, device) DO UPDATE SET
                \(updates),
                updated_ms = greatest(bandwidth.updated_ms, EXCLUDED.updated_ms)
            """
    }()

    /// The largest multiple of `step` not above `value` (a true floor, also for negative values).
    static func floorToMultiple(_ value: Int64, of step: Int64) -> Int64 {
        let remainder = value % step
        guard remainder < 0 else { return value - remainder }
        let (floor, overflow) = (value - remainder).subtractingReportingOverflow(step)
        return overflow ? .min : floor
    }
}

/// A `bandwidth` row of this collector.
struct BandwidthKey: Hashable {
    /// The protocol's name.
    var protocolName: String
    /// The device's name ("" for traffic of no device).
    var device: String

    /// Key order: by bytes.
    static func precedes(_ lhs: BandwidthKey, _ rhs: BandwidthKey) -> Bool {
        if lhs.protocolName != rhs.protocolName {
            return lhs.protocolName.utf8.lexicographicallyPrecedes(rhs.protocolName.utf8)
        }
        return lhs.device.utf8.lexicographicallyPrecedes(rhs.device.utf8)
    }
}

/// A `bandwidth_history` row of this collector.
struct HistoryKey: Hashable {
    /// The bucket's start, Unix ms.
    var bucketMs: Int64
    /// The protocol's name.
    var protocolName: String

    /// Key order: by bucket, then protocol bytes.
    static func precedes(_ lhs: HistoryKey, _ rhs: HistoryKey) -> Bool {
        if lhs.bucketMs != rhs.bucketMs { return lhs.bucketMs < rhs.bucketMs }
        return lhs.protocolName.utf8.lexicographicallyPrecedes(rhs.protocolName.utf8)
    }
}
