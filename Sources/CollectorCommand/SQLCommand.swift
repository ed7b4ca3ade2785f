// `collector sql --db PATH [--format tsv|csv|json] [--header] "SQL"`: plain SQL over the store, read-only. The
// readings are compressed in `chunks`; the table `readings(device, sensor, ts, value)` reads them back (Store's
// `SQLConsole` and its virtual table), and `readings_view` is kept as its old name.

import Flags
import Foundation
import Postgres
import Store

let sqlFlags = FlagParser(
    command: "collector sql \"SQL\"",
    summary: """
        Runs SQL on the collector's database, opened read-only: a running collector is not disturbed, and nothing
        can be written. Besides the stored tables (devices, series, chunks, batches, bandwidth, ...) there is

          readings(device TEXT, sensor TEXT, ts INTEGER, value REAL)

        with one row per stored reading, decoded from the compressed chunks: ts is Unix milliseconds (UTC) and value
        the exact Double stored. Filters on device, sensor and ts (=, <, <=, >, >=, BETWEEN) read only the chunks
        they need; rows come in (device, sensor, ts) order. readings_view is the same table under its old name.
        Several statements may be separated by ";": the rows of the last SELECT are printed.

        Example, the latest ten readings of a device:
          collector sql --db data/telemetry.db --header \\
            "SELECT sensor, strftime('%Y-%m-%d %H:%M:%f', ts / 1000.0, 'unixepoch') AS time, value
             FROM readings WHERE device = 'dev-1' ORDER BY ts DESC LIMIT 10"

        Output formats: tsv (a tab between columns, NULL as empty, tab, newline and backslash inside a value as
        \\t, \\n and \\\\; reals printed so that they read back as the same Double), csv (RFC 4180), json (an array
        of objects keyed by column name, numbers as JSON numbers). Exit status 1 when the database file is missing
        or SQLite refuses the SQL (its message on stderr).
        """,
    specs: [
        FlagSpec(
            "db", value: "PATH", default: "data/telemetry.db", help: "the collector's SQLite database (never created)"),
        FlagSpec("format", value: "tsv|csv|json", default: "tsv", help: "how rows are printed"),
        FlagSpec("header", help: "tsv and csv: print the column names first"),
    ])

func sql(_ arguments: [String]) throws(FlagError) {
    let flags = try sqlFlags.parse(arguments)
    if flags.wantsHelp {
        print(sqlFlags.helpText)
        return
    }
    guard flags.positional.count == 1 else {
        throw FlagError("expected one SQL argument, got \(flags.positional.count); see collector sql --help")
    }
    guard let format = SQLOutputFormat(rawValue: flags.string("format")!) else {
        throw FlagError("--format: expected tsv, csv or json, got \(flags.string("format")!)")
    }
    if case .postgres(let connection) = DatabaseChoice(flags.string("db")!) {
        // The chunks' readings are decoded by the SQLite console's virtual table; PostgreSQL has no such table.
        fail("""
            collector sql reads a SQLite database; for PostgreSQL use psql on \(PostgresURL.redact(connection)) \
            (the readings are compressed in chunks: see schema/postgresql.sql)
            """, code: 2)
    }
    let result: SQLResult
    do {
        result = try SQLConsole.run(path: flags.string("db")!, sql: flags.positional[0])
    } catch {
        fail("\(error)", code: 1)
    }
    FileHandle.standardOutput.write(Data(format.render(result, withHeader: flags.bool("header")).utf8))
}

/// How `collector sql` prints a result.
enum SQLOutputFormat: String {
    case tsv, csv, json

    /// The whole output, each row ending in a newline.
    func render(_ result: SQLResult, withHeader: Bool) -> String {
        var out = ""
        switch self {
        case .tsv, .csv:
            let field = self == .tsv ? Self.tsvField : Self.csvField
            let separator = self == .tsv ? "\t" : ","
            if withHeader && !result.columns.isEmpty {
                out += result.columns.map(field).joined(separator: separator) + "\n"
            }
            for row in result.rows {
                out += row.map { field($0.text ?? "") }.joined(separator: separator) + "\n"
            }
        case .json:
            let keys = result.columns.map(Self.jsonString)
            out += "["
            for (index, row) in result.rows.enumerated() {
                out += index == 0 ? "\n" : ",\n"
                out += "{" + zip(keys, row).map { "\($0): \(Self.jsonValue($1))" }.joined(separator: ", ") + "}"
            }
            out += result.rows.isEmpty ? "]\n" : "\n]\n"
        }
        return out
    }

    /// Tab, newline, carriage return and backslash escaped, so that every row is one line of tab-separated fields.
    private static func tsvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\\" }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\\": out += "\\\\"
            default: out.append(character)
            }
        }
        return out
    }

    /// RFC 4180: quoted (with quotes doubled) when it holds a comma, a quote or a line break.
    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Numbers as JSON numbers (infinities, which JSON lacks, as null); text and blobs (X'…') as strings.
    private static func jsonValue(_ value: SQLValue) -> String {
        switch value {
        case .null: "null"
        case .integer(let number): String(number)
        case .real(let number): number.isFinite ? number.description : "null"
        case .text, .blob: jsonString(value.text ?? "")
        }
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
