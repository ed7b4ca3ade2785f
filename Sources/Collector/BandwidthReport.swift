// The bandwidth report as JSON: per protocol (`GET /v1/bandwidth`) and per device × protocol
// (`GET /v1/bandwidth/devices`). Every row carries bytes in and out, their header/framing/payload split, the
// counts, and wire bytes per stored reading (null before the first reading).

import Telemetry

/// Renders ledger rows as the bandwidth API's JSON.
public enum BandwidthReport {
    /// `{"protocols": [...], "socket_bytes_in": n, "socket_bytes_out": n}`; rows include overhead rows.
    public static func perProtocol(_ ledger: BandwidthLedger) -> [UInt8] {
        let rows = ledger.perProtocol().sorted { $0.key < $1.key }
        let socket = ledger.socketTotals()
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.beginObject()
        writer.key("protocols")
        writer.beginArray()
        for (name, counters) in rows { write(counters, protocolName: name, device: nil, into: &writer) }
        writer.endArray()
        writer.key("socket_bytes_in")
        writer.value(socket.bytesIn)
        writer.key("socket_bytes_out")
        writer.value(socket.bytesOut)
        writer.endObject()
        return writer.bytes
    }

    /// `{"devices": [...]}`: one row per (device, protocol), overhead rows excluded; optional protocol filter.
    public static func perDevice(_ ledger: BandwidthLedger, protocolName: String? = nil) -> [UInt8] {
        let rows = ledger.snapshot()
            .filter { $0.key.device != WireProtocol.overheadDevice }
            .filter { protocolName == nil || $0.key.protocolName == protocolName }
            .sorted { ($0.key.device, $0.key.protocolName) < ($1.key.device, $1.key.protocolName) }
        var writer = JSONWriter(reservingCapacity: 256 * max(rows.count, 1))
        writer.beginObject()
        writer.key("devices")
        writer.beginArray()
        for (key, counters) in rows { write(counters, protocolName: key.protocolName, device: key.device, into: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    static func write(_ counters: BandwidthCounters, protocolName: String, device: String?, into writer: inout JSONWriter) {
        writer.beginObject()
        if let device {
            writer.key("device")
            writer.value(device)
        }
        writer.key("protocol")
        writer.value(protocolName)
        let fields: [(String, Int64)] = [
            ("bytes_in", counters.bytesIn.total), ("bytes_out", counters.bytesOut.total),
            ("readings", counters.readings), ("batches", counters.batches),
            ("duplicate_batches", counters.duplicateBatches), ("calls", counters.calls),
            ("connections", counters.connections), ("errors", counters.errors),
            ("header_bytes_in", counters.bytesIn.header), ("header_bytes_out", counters.bytesOut.header),
            ("framing_bytes_in", counters.bytesIn.framing), ("framing_bytes_out", counters.bytesOut.framing),
            ("payload_bytes_in", counters.bytesIn.payload), ("payload_bytes_out", counters.bytesOut.payload),
        ]
        for (name, value) in fields {
            writer.key(name)
            writer.value(value)
        }
        writer.key("bytes_per_reading")
        if let perReading = counters.bytesPerReading { writer.value(perReading) } else { writer.null() }
        writer.endObject()
    }
}
