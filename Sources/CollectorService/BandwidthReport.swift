// The bandwidth report: per protocol (`GET /v1/bandwidth`), per device × protocol (`GET /v1/bandwidth/devices`,
// `GET /v1/bandwidth/devices/{device}`) and over time (`GET /v1/bandwidth/history`). Every row carries bytes in and
// out, their header/framing/payload/TLS handshake/TLS record split, the counts, wire bytes per stored reading (null
// before the first), TCP segments both ways, and the ESTIMATE of what the link carried: socket bytes plus 52 bytes
// (IPv4 + TCP with timestamps) per segment, in total and per stored reading. Columns are only ever appended, so
// CSV readers that go by position keep working.

import Accounting
import Storage
import Telemetry

/// Renders ledger rows and persisted history as the bandwidth API's JSON or CSV.
enum BandwidthReport {
    static let counterColumns = [
        "bytes_in", "bytes_out", "readings", "batches", "duplicate_batches", "calls", "connections", "errors",
        "header_bytes_in", "header_bytes_out", "framing_bytes_in", "framing_bytes_out", "payload_bytes_in",
        "payload_bytes_out", "bytes_per_reading", "tls_handshake_bytes_in", "tls_handshake_bytes_out",
        "tls_record_bytes_in", "tls_record_bytes_out", "segments_in", "segments_out", "estimated_link_bytes",
        "estimated_link_bytes_per_reading",
    ]

    static func cells(_ counters: BandwidthCounters) -> [TableCell] {
        [
            .integer(counters.bytesIn.total), .integer(counters.bytesOut.total), .integer(counters.readings),
            .integer(counters.batches), .integer(counters.duplicateBatches), .integer(counters.calls),
            .integer(counters.connections), .integer(counters.errors), .integer(counters.bytesIn.header),
            .integer(counters.bytesOut.header), .integer(counters.bytesIn.framing), .integer(counters.bytesOut.framing),
            .integer(counters.bytesIn.payload), .integer(counters.bytesOut.payload),
            counters.bytesPerReading.map(TableCell.number) ?? .null,
            .integer(counters.bytesIn.tlsHandshake), .integer(counters.bytesOut.tlsHandshake),
            .integer(counters.bytesIn.tlsRecord), .integer(counters.bytesOut.tlsRecord),
            .integer(counters.segmentsIn), .integer(counters.segmentsOut), .integer(counters.estimatedLinkBytes),
            counters.readings > 0
                ? .number(Double(counters.estimatedLinkBytes) / Double(counters.readings)) : .null,
        ]
    }

    /// Per protocol, overhead rows included: their sum is every byte on every socket.
/// `collector`: this collector's name on a database several share (then `collectors` lists each one's share,
    /// this one's live, the others' as of their last flush); nil alone.
    static func perProtocol(
        _ ledger: BandwidthLedger, socket: ServerFigures.SocketTotals, format: ResponseFormat = .json,
        collector: String? = nil
    ) -> RESTResponse {
        var table = ResponseTable(columns: ["protocol"] + counterColumns)
        for (name, counters) in ledger.perProtocol().sorted(by: { $0.key < $1.key }) {
            table.append([.string(name)] + cells(counters))
        }
        if format == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.beginObject()
        writer.key("protocols")
        table.writeJSON(into: &writer)
        writer.key("socket_bytes_in")
        writer.value(socket.bytesRead)
        writer.key("socket_bytes_out")
        writer.value(socket.bytesWritten)
        writer.key("collector")
        if let collector { writer.value(collector) } else { writer.null() }
        writer.key("collectors")
        writer.beginArray()
        if let collector {
            var shares = ledger.othersSnapshot()
            shares[collector] = ledger.ownSnapshot()
            for (name, rows) in shares.sorted(by: { $0.key < $1.key }) {
                var share = ResponseTable(columns: ["protocol"] + counterColumns)
                for (protocolName, counters) in BandwidthLedger.perProtocol(rows).sorted(by: { $0.key < $1.key }) {
                    share.append([.string(protocolName)] + cells(counters))
                }
                writer.beginObject()
                writer.key("collector")
                writer.value(name)
                writer.key("protocols")
                share.writeJSON(into: &writer)
                writer.endObject()
            }
        }
        writer.endArray()
        writer.endObject()
        return .json(200, writer.bytes)
    }

    /// The sort keys of the per-device list.
    static let sortKeys = ["device", "bytes_per_reading", "bytes_in", "bytes_out", "readings"]

    /// Per device × protocol (overhead rows excluded), filtered, sorted and limited as the query asks.
    static func perDevice(_ ledger: BandwidthLedger, _ request: RESTRequest) throws(RESTError) -> RESTResponse {
        let parameters = QueryParameters(request: request)
        let format = try ResponseFormat(request)
        let protocolName = request.queryValue("protocol").flatMap { $0.isEmpty ? nil : $0 }
        let sort = try parameters.choice("sort", sortKeys, default: "device")
        let descending = try parameters.choice("order", ["asc", "desc"], default: "asc") == "desc"
        let limit = try parameters.integer("limit", in: 1...100_000, default: 100_000)
        var rows = ledger.snapshot().filter {
            $0.key.device != WireProtocol.overheadDevice && (protocolName == nil || $0.key.protocolName == protocolName)
        }.map { ($0.key, $0.value) }
        func value(_ counters: BandwidthCounters) -> Double {
            switch sort {
            case "bytes_per_reading": counters.bytesPerReading ?? .infinity
            case "bytes_in": Double(counters.bytesIn.total)
            case "bytes_out": Double(counters.bytesOut.total)
            default: Double(counters.readings)
            }
        }
        rows.sort { a, b in
            if sort == "device" || value(a.1) == value(b.1) {
                return descending ? a.0 > b.0 : a.0 < b.0
            }
            return descending ? value(a.1) > value(b.1) : value(a.1) < value(b.1)
        }
        var table = ResponseTable(columns: ["device", "protocol"] + counterColumns)
        for (key, counters) in rows.prefix(limit) {
            table.append([.string(key.device), .string(key.protocolName)] + cells(counters))
        }
        if format == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 320 * max(table.rows.count, 1))
        writer.beginObject()
        writer.key("devices")
        table.writeJSON(into: &writer)
        writer.endObject()
        return .json(200, writer.bytes)
    }

    /// One device's rows, one per protocol it used.
static func device(_ ledger: BandwidthLedger, _ deviceID: String) throws(RESTError) -> RESTResponse {
        let rows = ledger.snapshot().filter { $0.key.device == deviceID }.sorted { $0.key < $1.key }
        guard !rows.isEmpty else { throw .notFound("no bandwidth recorded for device \(deviceID)") }
        var table = ResponseTable(columns: ["protocol"] + counterColumns)
        for (key, counters) in rows { table.append([.string(key.protocolName)] + cells(counters)) }
        var writer = JSONWriter(reservingCapacity: 512)
        writer.beginObject()
        writer.key("device")
        writer.value(deviceID)
        writer.key("protocols")
        table.writeJSON(into: &writer)
        writer.endObject()
        return .json(200, writer.bytes)
    }

    /// Bytes and readings per protocol per time bucket, from the persisted history (10 s base buckets).
    static func history(_ store: any TelemetryStorage, _ request: RESTRequest, baseBucketMs: Int64) throws(RESTError)
        -> RESTResponse
    {
        let parameters = QueryParameters(request: request)
        let format = try ResponseFormat(request)
        let step = try parameters.duration("step") ?? 60_000
        guard step % baseBucketMs == 0 else {
            throw .badRequest("query parameter step must be a multiple of \(baseBucketMs) ms, got \(step)")
        }
        let from = try parameters.time("from")
        let to = try parameters.time("to")
        try QueryParameters.checkBucketCount(from: from, to: to, stepMs: step)
        let buckets: [HistoryBucket]
        do {
            buckets = try store.counterHistory(stepMs: step, fromMs: from, toMs: to)
        } catch {
            if case .invalidArgument(let message) = error { throw .badRequest(message) }
            throw error.restError
        }
        var table = ResponseTable(columns: ["start", "protocol", "bytes_in", "bytes_out", "readings"])
        for bucket in buckets {
            table.append([.integer(bucket.startMs), .string(bucket.protocolName), .integer(Int64(bucket.bytesIn)),
                          .integer(Int64(bucket.bytesOut)), .integer(Int64(bucket.readings))])
        }
        if format == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 96 * max(table.rows.count, 1))
        writer.beginObject()
        writer.key("step_ms")
        writer.value(step)
        writer.key("buckets")
        table.writeJSON(into: &writer)
        writer.endObject()
        return .json(200, writer.bytes)
    }
}
