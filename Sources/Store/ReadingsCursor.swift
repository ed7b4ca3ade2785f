import Chunks

// The cursor of the `readings` virtual table: walks the selected series in (device, sensor) order and, for each, the
// chunks that overlap the ts range, decoding only those. Invariant it relies on: chunks of one series never overlap,
// so the only chunk starting before the range's low bound that can hold readings in it is the last one starting at
// or before that bound; the chunk query seeks to it by the primary key (series_id, start_ts) and then walks forward
// to the high bound, skipping (without decoding) a chunk that ends before the low bound.

internal import CSQLite

/// Why a scan failed: SQLite's result code and the message that becomes the statement's error.
struct ReadingsScanError: Error {
    /// `SQLITE_CORRUPT_VTAB`, a macro with a shift that Swift does not import: a damaged chunk.
    static let corruptVirtualTable: Int32 = SQLITE_CORRUPT | (1 << 8)

    var code: Int32
    var message: String
}

/// The state of one scan over the virtual table; owned by a `fw_readings_cursor` (see ReadingsVirtualTable.swift).
final class ReadingsCursor {
    private let table: ReadingsTable
    /// Prepared statements by SQL text, finalized with the cursor: a join calls xFilter once per outer row.
    private var statements: [String: OpaquePointer] = [:]
    /// The chunk statement of the current series while it has rows left.
    private var chunks: OpaquePointer?

    private var series: [(id: Int64, device: String, sensor: String)] = []
    private var seriesIndex = 0
    private var lower = Int64.min
    private var upper = Int64.max
    private var isDescending = false

    private var timestamps: [Int64] = []
    private var values: [Double] = []
    /// The current row in `timestamps`/`values`, and the half-open range of the chunk's rows inside [lower, upper].
    private var position = 0
    private var range = 0..<0

    /// True when the scan has no current row.
    private(set) var isAtEnd = true
    /// A number for each row of the scan (the virtual table has no stored rowid).
    private(set) var rowID: Int64 = 0

    init(table: ReadingsTable) {
        self.table = table
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
    }

    var device: String { series[seriesIndex].device }
    var sensor: String { series[seriesIndex].sensor }
    var ts: Int64 { timestamps[position] }
    var value: Double { values[position] }

    /// Starts a scan with xFilter's plan (`filters`) and values (`arguments`, in `Filters.argumentOrder`).
    func filter(_ filters: ReadingsScanPlan.Filters, arguments: [OpaquePointer?]) throws(ReadingsScanError) {
        if let chunks { sqlite3_reset(chunks) }
        chunks = nil
        series = []
        seriesIndex = 0
        range = 0..<0
        rowID = 0
        isAtEnd = true
        isDescending = filters.contains(.descending)
        lower = .min
        upper = .max
        var device: OpaquePointer?
        var sensor: OpaquePointer?
        var next = arguments.makeIterator()
        for filter in ReadingsScanPlan.Filters.argumentOrder where filters.contains(filter) {
            guard let value = next.next() else { break }
            let bounds: TimestampBound
            switch filter {
            case .device:
                device = value
                continue
            case .sensor:
                sensor = value
                continue
            case .tsEqual: bounds = .equal(value)
            case .tsGreater: bounds = .lower(value, isStrict: true)
            case .tsGreaterOrEqual: bounds = .lower(value, isStrict: false)
            case .tsLess: bounds = .upper(value, isStrict: true)
            default: bounds = .upper(value, isStrict: false)
            }
            guard bounds.narrow(lower: &lower, upper: &upper) else { return }
        }
        for value in [device, sensor] where value != nil && sqlite3_value_type(value) == SQLITE_NULL { return }
        guard lower <= upper else { return }
        try loadSeries(device: device, sensor: sensor)
        seriesIndex = -1
        try advanceSeries()
    }

    /// Moves to the next row.
    func next() throws(ReadingsScanError) {
        rowID += 1
        if isDescending {
            position -= 1
            if position >= range.lowerBound { return }
        } else {
            position += 1
            if position < range.upperBound { return }
        }
        if try advanceChunk() { return }
        try advanceSeries()
    }

    /// Fills `series` with the selected series in scan order.
    private func loadSeries(device: OpaquePointer?, sensor: OpaquePointer?) throws(ReadingsScanError) {
        var conditions: [String] = []
        if device != nil { conditions.append("d.name = ?1") }
        if sensor != nil { conditions.append("s.sensor = ?2") }
        let direction = isDescending ? " DESC" : ""
        let sql = """
            SELECT s.id, d.name, s.sensor FROM main.series AS s JOIN main.devices AS d ON d.id = s.device_id
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY d.name\(direction), s.sensor\(direction)
            """
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        if let device { sqlite3_bind_value(statement, 1, device) }
        if let sensor { sqlite3_bind_value(statement, 2, sensor) }
        while try step(statement) {
            series.append((sqlite3_column_int64(statement, 0), text(statement, 1), text(statement, 2)))
        }
    }

    /// Moves to the first row of the next series that has one; at the end, marks the scan ended.
    private func advanceSeries() throws(ReadingsScanError) {
        while true {
            seriesIndex += 1
            guard seriesIndex < series.count else {
                isAtEnd = true
                return
            }
            let statement = try prepared(isDescending ? Self.chunksDescending : Self.chunksAscending)
            sqlite3_reset(statement)
            sqlite3_bind_int64(statement, 1, series[seriesIndex].id)
            sqlite3_bind_int64(statement, 2, lower)
            sqlite3_bind_int64(statement, 3, upper)
            chunks = statement
            if try advanceChunk() {
                isAtEnd = false
                return
            }
        }
    }

    /// Decodes the next chunk of the current series with rows in [lower, upper] and points at its first row (in
    /// scan order); false when the series has no more.
    private func advanceChunk() throws(ReadingsScanError) -> Bool {
        guard let statement = chunks else { return false }
        while try step(statement) {
            let startTS = sqlite3_column_int64(statement, 0)
            let count = Int(sqlite3_column_bytes(statement, 1))
            let blob: [UInt8] =
                if count > 0, let bytes = sqlite3_column_blob(statement, 1) {
                    Array(UnsafeRawBufferPointer(start: bytes, count: count))
                } else {
                    []
                }
            table.module.decodedChunks += 1
            do {
                (timestamps, values) = try ChunkCodec.decode(blob)
            } catch {
                sqlite3_reset(statement)
                chunks = nil
                let (id, device, sensor) = series[seriesIndex]
                throw ReadingsScanError(
                    code: ReadingsScanError.corruptVirtualTable,
                    message: "damaged chunk of series \(id) (device \(device), sensor \(sensor)) "
                        + "starting at ts \(startTS): \(error)")
            }
            range = Self.firstIndex(in: timestamps, notBelow: lower)..<Self.firstIndex(in: timestamps, above: upper)
            guard !range.isEmpty else { continue }
            position = isDescending ? range.upperBound - 1 : range.lowerBound
            return true
        }
        chunks = nil
        return false
    }

    /// The chunks of series ?1 that may hold readings in [?2, ?3]: from the last one starting at or before ?2 (it
    /// may reach into the range) to the last one starting at or before ?3, without those ending before ?2.
    private static let chunksWhere = """
        SELECT start_ts, data FROM main.chunks
        WHERE series_id = ?1 AND start_ts <= ?3 AND end_ts >= ?2 AND start_ts >= coalesce(
            (SELECT start_ts FROM main.chunks WHERE series_id = ?1 AND start_ts <= ?2 ORDER BY start_ts DESC LIMIT 1),
            ?2)
        """
    private static let chunksAscending = chunksWhere + " ORDER BY start_ts"
    private static let chunksDescending = chunksWhere + " ORDER BY start_ts DESC"

    /// The index of the first timestamp >= `bound` (timestamps ascend).
    static func firstIndex(in timestamps: [Int64], notBelow bound: Int64) -> Int {
        var low = 0
        var high = timestamps.count
        while low < high {
            let middle = (low + high) / 2
            if timestamps[middle] < bound { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The index of the first timestamp > `bound` (timestamps ascend).
    static func firstIndex(in timestamps: [Int64], above bound: Int64) -> Int {
        bound == .max ? timestamps.count : firstIndex(in: timestamps, notBelow: bound + 1)
    }

    private func prepared(_ sql: String) throws(ReadingsScanError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(table.database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw ReadingsScanError(code: code, message: String(cString: sqlite3_errmsg(table.database)))
        }
        statements[sql] = statement
        return statement
    }

    private func step(_ statement: OpaquePointer) throws(ReadingsScanError) -> Bool {
        let code = sqlite3_step(statement)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        let message = String(cString: sqlite3_errmsg(table.database))
        sqlite3_reset(statement)
        throw ReadingsScanError(code: code, message: message)
    }

    private func text(_ statement: OpaquePointer, _ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}


/// A ts constraint's value turned into integer bounds that hold every row matching it (SQLite re-checks each row,
/// so a bound may be looser than the constraint, never tighter).
enum TimestampBound {
    case equal(OpaquePointer?)
    case lower(OpaquePointer?, isStrict: Bool)
    case upper(OpaquePointer?, isStrict: Bool)

    /// Narrows [lower, upper]; false when no row can match (NULL, a non-integral `=`, or beyond the Int64 range).
    /// Text and blobs leave the bounds alone.
    func narrow(lower: inout Int64, upper: inout Int64) -> Bool {
        switch self {
        case .equal(let value):
            guard let number = Self.number(value) else { return sqlite3_value_type(value) != SQLITE_NULL }
            guard let exact = number.integer else { return false }
            lower = max(lower, exact)
            upper = min(upper, exact)
        case .lower(let value, let isStrict):
            guard let number = Self.number(value) else { return sqlite3_value_type(value) != SQLITE_NULL }
            // ts > x: the first integer above x; ts >= x: the first integer at or above x.
            let (floor, isIntegral) = number.floor
            guard let floor else { return number.isNegative }
            if isStrict || !isIntegral {
                guard floor < .max else { return false }
                lower = max(lower, floor + 1)
            } else {
                lower = max(lower, floor)
            }
        case .upper(let value, let isStrict):
            guard let number = Self.number(value) else { return sqlite3_value_type(value) != SQLITE_NULL }
            // ts < x: the last integer below x; ts <= x: the last integer at or below x.
            let (floor, isIntegral) = number.floor
            guard let floor else { return !number.isNegative }
            if isStrict && isIntegral {
                guard floor > .min else { return false }
                upper = min(upper, floor - 1)
            } else {
                upper = min(upper, floor)
            }
        }
        return true
    }

    /// An integer or a real constraint value.
    enum Number {
        case integer(Int64)
        case real(Double)

        /// The value when it is an integer in Int64's range.
        var integer: Int64? {
            switch self {
            case .integer(let value): value
            case .real(let value): Int64(exactly: value)
            }
        }

        /// The largest Int64 at or below the value (nil when beyond Int64's range) and whether it equals the value.
        var floor: (Int64?, isIntegral: Bool) {
            switch self {
            case .integer(let value): return (value, true)
            case .real(let value):
                let rounded = value.rounded(.down)
                return (Int64(exactly: rounded), rounded == value)
            }
        }

        var isNegative: Bool {
            switch self {
            case .integer(let value): value < 0
            case .real(let value): value < 0
            }
        }
    }

    /// The value as a number, or nil for NULL, text and blobs.
    private static func number(_ value: OpaquePointer?) -> Number? {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT: .real(sqlite3_value_double(value))
        default: nil
        }
    }
}
