import Storage

// The persisted bandwidth counters and their history.

extension ReadConnection {
    /// Every row of `bandwidth`, by protocol then device.
    func counters() throws(StoreError) -> [CounterRow] {
        let select = try statement(
            """
            SELECT protocol, device, bytes_in, bytes_out, header_bytes_in, header_bytes_out, framing_bytes_in,
                framing_bytes_out, payload_bytes_in, payload_bytes_out, tls_handshake_bytes_in,
                tls_handshake_bytes_out, tls_record_bytes_in, tls_record_bytes_out, readings, batches,
                duplicate_batches, calls, connections, errors, segments_in, segments_out, updated_ms
            FROM bandwidth ORDER BY protocol, device
            """, operation: "read bandwidth counters")
        var rows: [CounterRow] = []
        try forEachRow(select) { row in
            let end = 2 + CounterDelta.amountCount
            let amounts = (2..<end).map { UInt64(clamping: row.int64(at: Int32($0))) }
            let totals = CounterDelta(protocolName: row.text(at: 0), device: row.text(at: 1), amounts: amounts)
            rows.append(CounterRow(totals: totals, updatedMs: row.int64(at: Int32(end))))
        }
        return rows
    }

    /// History summed into `stepMs` steps per protocol, over base buckets starting in `[lowMs, highMs]`.
    func counterHistory(stepMs: Int64, lowMs: Int64, highMs: Int64) throws(StoreError) -> [HistoryBucket] {
        guard lowMs <= highMs else { return [] }
        let select = try statement(
            """
            SELECT CASE WHEN bucket_ms >= 0 THEN bucket_ms - bucket_ms % ?1
                    ELSE bucket_ms - ((bucket_ms % ?1) + ?1) % ?1 END AS step,
                protocol, sum(bytes_in), sum(bytes_out), sum(readings)
            FROM bandwidth_history WHERE bucket_ms BETWEEN ?2 AND ?3
            GROUP BY step, protocol ORDER BY step, protocol
            """, operation: "read bandwidth history")
        select.bind(stepMs, at: 1)
        select.bind(lowMs, at: 2)
        select.bind(highMs, at: 3)
        var buckets: [HistoryBucket] = []
        try forEachRow(select) { row in
            buckets.append(
                HistoryBucket(
                    startMs: row.int64(at: 0), protocolName: row.text(at: 1),
                    bytesIn: UInt64(clamping: row.int64(at: 2)), bytesOut: UInt64(clamping: row.int64(at: 3)),
                    readings: UInt64(clamping: row.int64(at: 4))))
        }
        return buckets
    }
}
