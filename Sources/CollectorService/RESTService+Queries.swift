// The read endpoints over the store: devices, a device with its latest values, raw readings with cursor paging,
// and downsampled series computed in SQL.

import Accounting
import Storage
import Telemetry

extension RESTService {
    /// Largest page of readings one request returns.
    static let maxReadingsLimit = 10_000

    func devices(_ request: RESTRequest) throws(RESTError) -> RESTResponse {
        let parameters = QueryParameters(request: request)
        let limit = try parameters.integer("limit", in: 1...1000, default: 100)
        let prefix = request.queryValue("prefix")
        let after = request.queryValue("cursor")
        let rows = try storeCall { () throws(StoreError) in
            try store.devices(namePrefix: prefix, limit: limit + 1, after: after)
        }
        let traffic = deviceTraffic()
        var table = ResponseTable(columns: Self.deviceColumns)
        for row in rows.prefix(limit) {
            table.append(Self.cells(row) + [.strings(row.sensors)] + Self.trafficCells(traffic[row.name]))
        }
        if try ResponseFormat(request) == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 256 * rows.count)
        writer.beginObject()
        writer.key("devices")
        table.writeJSON(into: &writer)
        writer.key("next_cursor")
        if rows.count > limit, let last = rows.prefix(limit).last { writer.value(last.name) } else { writer.null() }
        writer.endObject()
        return .json(200, writer.bytes)
    }

    static let deviceColumns = [
        "device", "first_seen_ms", "last_seen_ms", "readings", "batches", "last_seq", "sensors", "protocols", "bytes_in",
        "bytes_out",
    ]

    /// Protocols each device used and its wire bytes, from the bandwidth ledger.
    func deviceTraffic() -> [String: (protocols: [String], bytesIn: Int64, bytesOut: Int64)] {
        var traffic: [String: (protocols: [String], bytesIn: Int64, bytesOut: Int64)] = [:]
        for (key, counters) in ledger.snapshot().sorted(by: { $0.key < $1.key })
        where key.device != WireProtocol.overheadDevice {
            var entry = traffic[key.device] ?? ([], 0, 0)
            entry.protocols.append(key.protocolName)
            entry.bytesIn += counters.bytesIn.total
            entry.bytesOut += counters.bytesOut.total
            traffic[key.device] = entry
        }
        return traffic
    }

    static func trafficCells(_ traffic: (protocols: [String], bytesIn: Int64, bytesOut: Int64)?) -> [TableCell] {
        [.strings(traffic?.protocols ?? []), .integer(traffic?.bytesIn ?? 0), .integer(traffic?.bytesOut ?? 0)]
    }

    static func cells(_ summary: DeviceSummary) -> [TableCell] {
        [.string(summary.name), .integer(summary.firstSeenMs), .integer(summary.lastSeenMs), .integer(summary.readings),
         .integer(summary.batches), .integer(Int64(clamping: summary.lastSeq))]
    }

    func device(_ deviceID: String) throws(RESTError) -> RESTResponse {
        guard let summary = try storeCall({ () throws(StoreError) in try store.device(deviceID) }) else {
            throw .notFound("no device \(deviceID)")
        }
        let latest = try storeCall { () throws(StoreError) in try store.latest(deviceID: deviceID) }
        var writer = JSONWriter(reservingCapacity: 512)
        writer.beginObject()
        Self.writeFields(summary, into: &writer)
        let traffic = deviceTraffic()[deviceID]
        writer.key("protocols")
        writer.beginArray()
        for name in traffic?.protocols ?? [] { writer.value(name) }
        writer.endArray()
        writer.key("bytes_in")
        writer.value(traffic?.bytesIn ?? 0)
        writer.key("bytes_out")
        writer.value(traffic?.bytesOut ?? 0)
        writer.key("sensors")
        writer.beginArray()
        for sensor in latest {
            writer.beginObject()
            writer.key("sensor")
            writer.value(sensor.sensor)
            writer.key("exponent")
            if let exponent = sensor.exponent { writer.value(Int(exponent)) } else { writer.null() }
            writer.key("readings")
            writer.value(sensor.readings)
            writer.key("latest")
            writer.beginObject()
            writer.key("ts")
            writer.value(sensor.ts)
            writer.key("value")
            writer.value(sensor.value)
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(200, writer.bytes)
    }

    func readings(_ request: RESTRequest, deviceID: String) throws(RESTError) -> RESTResponse {
        let parameters = QueryParameters(request: request)
        let format = try ResponseFormat(request)
        let sensor = try parameters.sensor()
        let from = try parameters.time("from")
        let to = try parameters.time("to")
        let limit = try parameters.integer("limit", in: 1...Self.maxReadingsLimit, default: 1000)
        let order: ReadingOrder = try parameters.choice("order", ["asc", "desc"], default: "asc") == "asc"
            ? .ascending : .descending
        var cursor: ReadingCursor?
        if let token = request.queryValue("cursor"), !token.isEmpty {
            guard let parsed = ReadingCursor(token: token) else {
                throw .badRequest("query parameter cursor is not a cursor this API returned")
            }
            cursor = parsed
        }
        try requireDevice(deviceID)
        let page = try storeCall { () throws(StoreError) in
            try store.readings(deviceID: deviceID, sensor: sensor, fromMs: from, toMs: to, limit: limit,
                                       order: order, after: cursor)
        }
        var table = ResponseTable(columns: ["sensor", "ts", "value"])
        for reading in page.readings { table.append([.string(reading.sensor), .integer(reading.ts), .number(reading.value)]) }
        if format == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 64 * page.readings.count + 128)
        writer.beginObject()
        writer.key("device")
        writer.value(deviceID)
        writer.key("readings")
        table.writeJSON(into: &writer)
        writer.key("next_cursor")
        if let next = page.nextCursor { writer.value(next.token) } else { writer.null() }
        writer.endObject()
        return .json(200, writer.bytes)
    }

    func series(_ request: RESTRequest, deviceID: String) throws(RESTError) -> RESTResponse {
        let parameters = QueryParameters(request: request)
        let format = try ResponseFormat(request)
        let sensor = try parameters.sensor(required: true)!
        let from = try parameters.time("from")
        let to = try parameters.time("to")
        let stepMs = try parameters.duration("step") ?? 60_000
        let aggregateName = try parameters.choice("agg", SeriesAggregate.allCases.map(\.rawValue), default: "avg")
        let aggregate = SeriesAggregate(rawValue: aggregateName)!
        try QueryParameters.checkBucketCount(from: from, to: to, stepMs: stepMs)
        try requireDevice(deviceID)
        let buckets = try storeCall { () throws(StoreError) in
            try store.series(deviceID: deviceID, sensor: sensor, fromMs: from, toMs: to, stepMs: stepMs,
                                     aggregate: aggregate)
        }
        var table = ResponseTable(columns: ["start", "value", "count"])
        for bucket in buckets { table.append([.integer(bucket.startMs), .number(bucket.value), .integer(Int64(bucket.count))]) }
        if format == .csv { return ResponseFormat.csvResponse(table) }
        var writer = JSONWriter(reservingCapacity: 48 * buckets.count + 128)
        writer.beginObject()
        writer.key("device")
        writer.value(deviceID)
        writer.key("sensor")
        writer.value(sensor)
        writer.key("step_ms")
        writer.value(stepMs)
        writer.key("agg")
        writer.value(aggregateName)
        writer.key("buckets")
        table.writeJSON(into: &writer)
        writer.endObject()
        return .json(200, writer.bytes)
    }

    private func requireDevice(_ deviceID: String) throws(RESTError) {
        guard try storeCall({ () throws(StoreError) in try store.device(deviceID) }) != nil else {
            throw .notFound("no device \(deviceID)")
        }
    }

    /// Runs a store read; store failures become the REST error the edge answers with.
    private func storeCall<T>(_ body: () throws(StoreError) -> T) throws(RESTError) -> T {
        do {
            return try body()
        } catch {
            if case .invalidArgument(let message) = error { throw .badRequest(message) }
            throw error.restError
        }
    }

    static func writeFields(_ summary: DeviceSummary, into writer: inout JSONWriter) {
        writer.key("device")
        writer.value(summary.name)
        writer.key("first_seen_ms")
        writer.value(summary.firstSeenMs)
        writer.key("last_seen_ms")
        writer.value(summary.lastSeenMs)
        writer.key("readings")
        writer.value(summary.readings)
        writer.key("batches")
        writer.value(summary.batches)
        writer.key("last_seq")
        writer.value(summary.lastSeq)
    }
}
