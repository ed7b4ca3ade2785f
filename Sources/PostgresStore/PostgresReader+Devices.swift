import Postgres
import Storage

// Device listings, the deny list and the database's size. A device's sensors come with its row (one statement
// for a whole page of devices, not one per device).

extension PostgresReader {
    /// The columns of a DeviceSummary, the sensors as a text array sorted in byte order.
    private static let deviceColumns = #"""
        d.name, d.first_seen_ms, d.last_seen_ms, d.readings, d.batches, d.last_seq,
        ARRAY(SELECT s.sensor FROM series s WHERE s.device = d.name ORDER BY s.sensor COLLATE "C")
        """#

    /// Devices whose name starts with `prefix` and sorts after `after` (byte order), by name, at most `limit`.
    func devices(namePrefix prefix: String, limit: Int, after: String) throws(StoreError) -> [DeviceSummary] {
        // name >= prefix AND name < prefix + U+10FFFF selects exactly the names starting with prefix (device names
        // are ASCII; in the "C" collation text compares as bytes).
        try summaries(
            readAlone(
                #"""
                SELECT \#(Self.deviceColumns) FROM devices d
                WHERE d.name COLLATE "C" >= $1 AND d.name COLLATE "C" < $2 AND d.name COLLATE "C" > $3
                ORDER BY d.name COLLATE "C" LIMIT $4
                """#,
                [.text(prefix), .text(prefix + "\u{10FFFF}"), .text(after), .int(Int64(max(0, limit)))],
                operation: "list devices"))
    }

    /// The device named `name`, or nil.
    func device(named name: String) throws(StoreError) -> DeviceSummary? {
        try summaries(
            readAlone(
                "SELECT \(Self.deviceColumns) FROM devices d WHERE d.name = $1", [.text(name)],
                operation: "read device")
        ).first
    }

    /// Every revoked device, by name.
    func revokedDevices() throws(StoreError) -> [RevokedDevice] {
        let rows = try readAlone(
            #"SELECT device, revoked_at_ms FROM revoked_devices ORDER BY device COLLATE "C""#,
            operation: "read revoked devices")
        var result: [RevokedDevice] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append(RevokedDevice(device: try row.text(0), revokedAtMs: try row.int(1))) }
        return result
    }

    /// The tables this schema creates: what `diskUsage` adds up.
    static let tableNames = [
        "fleetwire_schema", "devices", "series", "chunks", "batches", "bandwidth", "bandwidth_history",
        "revoked_devices",
    ]

    /// Bytes of the `chunks` table and of all the schema's tables, each with its indexes and TOAST.
    func diskUsage() throws(StoreError) -> (chunkBytes: Int64, totalBytes: Int64) {
        let list = "{" + Self.tableNames.joined(separator: ",") + "}"
        let rows = try readAlone(
            """
            SELECT pg_total_relation_size('chunks'),
                (SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest($1::text[]) AS t)
            """, [.text(list)], operation: "measure disk usage")
        guard let row = rows.first else { return (0, 0) }
        return (try row.int(0), try row.int(1))
    }

    private func summaries(_ rows: [Row]) throws(StoreError) -> [DeviceSummary] {
        var result: [DeviceSummary] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            result.append(
                DeviceSummary(
                    name: try row.text(0), firstSeenMs: try row.int(1), lastSeenMs: try row.int(2),
                    readings: try row.int(3), batches: try row.int(4),
                    lastSeq: UInt64(bitPattern: try row.int(5)),
                    sensors: try PostgresArrayText.parseTexts(try row.text(6), operation: row.operation)))
        }
        return result
    }
}
