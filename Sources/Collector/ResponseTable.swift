// Rows of a list endpoint, built once and rendered as JSON objects or as CSV (`?format=csv` or
// `Accept: text/csv`), so both formats always carry the same columns and values.

import Telemetry

/// One cell of a list endpoint's row.
enum TableCell {
    case string(String)
    case integer(Int64)
    case number(Double)
    /// A list: a JSON array of strings, or one CSV field with the items joined by `;`.
    case strings([String])
    case null
}

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

extension TableCell {
    /// This cell as one CSV field.
    fileprivate var csvField: String {
        guard case .string(let text) = self else { return "" }
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        return needsQuotes ? "\"" + text.replacingQuotes() + "\"" : text
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\"\"" : String(character) }
        return out
    }
}

/// The representation a list request asked for.
enum ResponseFormat {
    case json
    case csv

    /// `?format=json|csv`, else `Accept: text/csv`; another format is a 400 naming the parameter.
    init(_ request: RESTRequest) throws(RESTError) {
        switch request.queryValue("format") {
        case "csv": self = .csv
        case "json": self = .json
        case nil, "":
            self = (request.header("accept") ?? "").contains("text/csv") ? .csv : .json
        case let other?:
            throw .badRequest("query parameter format must be json or csv, got \"\(other)\"")
        }
    }

    /// A CSV response for `table`.
    static func csvResponse(_ table: ResponseTable) -> RESTResponse {
        RESTResponse(status: 200, headers: [("content-type", "text/csv; charset=utf-8")], body: table.csv())
    }
}
