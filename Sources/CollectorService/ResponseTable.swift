// Rows of a list endpoint, built once and rendered as JSON objects or as CSV (`?format=csv` or
// `Accept: text/csv`), so both formats always carry the same columns and values.

import Telemetry

/// Columns and rows of a list endpoint.
struct ResponseTable {
    let columns: [String]
var rows: [[TableCell]] = []

init(columns: [String]) {
        self.columns = columns
    }

mutating func append(_ cells: [TableCell]) {
        precondition(cells.count == columns.count, "a row needs one cell per column")
        rows.append(cells)
    }

    /// The rows as a JSON array of objects keyed by column.
    func writeJSON(into writer: inout JSONWriter) {
        writer.beginArray()
        for row in rows {
            writer.beginObject()
            for (column, cell) in zip(columns, row) {
                writer.key(column)
                switch cell {
                case .string(let text): writer.value(text)
                case .integer(let number): writer.value(number)
                case .number(let number): writer.value(number)
                case .strings(let items):
                    writer.beginArray()
                    for item in items { writer.value(item) }
                    writer.endArray()
                case .null: writer.null()
                }
            }
            writer.endObject()
        }
        writer.endArray()
    }

    /// RFC 4180 CSV with a header row of the column names.
    func csv() -> [UInt8] {
        var out = columns.joined(separator: ",") + "\r\n"
        for row in rows {
            out += row.map { cell -> String in
                switch cell {
                case .strings(let items):
                    return TableCell.string(items.joined(separator: ";")).csvField
                case .string: return cell.csvField
                case .integer(let number): return String(number)
                case .number(let number): return number.isFinite ? "\(number)" : ""
                case .null: return ""
                }
            }.joined(separator: ",")
            out += "\r\n"
        }
        return Array(out.utf8)
    }
}
