// Arrays in PostgreSQL's text form: parameters, so that one statement carries many rows (`INSERT … SELECT * FROM
// unnest($1::bigint[], $2::text[], …)`) and a group commit needs few round trips; and text arrays read back (a
// device's sensors, `array_agg`), so the syntax lives in one place.
//
// Rules (PostgreSQL's array input syntax): elements are separated by commas inside braces; NULL is the bare word
// NULL; a text or bytea element is always double-quoted, with `"` and `\` escaped by a backslash; a bytea element
// is its hex form `\x…`; a float8 element is Swift's shortest round-tripping text, `Infinity`/`-Infinity`, and NaN
// is written as NULL (what SQLite stores for a NaN sum, the only NaN a chunk row can hold).

import Postgres
import Storage

/// Builds array parameters in text form.
enum PostgresArrayText {
    /// `bigint[]` (or `integer[]`) of `values`, NULL for nil.
    static func integers(_ values: [Int64?]) -> PostgresValue {
        .text("{" + values.map { $0.map { String($0) } ?? "NULL" }.joined(separator: ",") + "}")
    }

    /// `bigint[]` of `values`.
    static func integers(_ values: [Int64]) -> PostgresValue {
        .text("{" + values.map { String($0) }.joined(separator: ",") + "}")
    }

    /// `double precision[]` of `values` (NaN as NULL).
    static func doubles(_ values: [Double]) -> PostgresValue {
        .text("{" + values.map(element(of:)).joined(separator: ",") + "}")
    }

    /// `text[]` of `values`.
    static func texts(_ values: [String]) -> PostgresValue {
        .text("{" + values.map(quoted).joined(separator: ",") + "}")
    }

    /// `bytea[]` of `values`, each in hex form.
    static func byteas(_ values: [[UInt8]]) -> PostgresValue {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "{")]
        text.reserveCapacity(values.reduce(2) { $0 + $1.count * 2 + 6 })
        for (index, bytes) in values.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            // "\\x…": the quoted element's `\\` is one backslash, which with `x` starts bytea's hex form.
            text += [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")]
            for byte in bytes {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0F)])
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return .text(String(decoding: text, as: UTF8.self))
    }

    /// One float8 element.
    static func element(of value: Double) -> String {
        if value.isNaN { return "NULL" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return String(value)
    }

    /// A double-quoted element with `"` and `\` escaped.
    static func quoted(_ value: String) -> String {
        var text = "\""
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { text.unicodeScalars.append("\\") }
            text.unicodeScalars.append(character)
        }
        return text + "\""
    }

    /// The elements of a one-dimensional text array in PostgreSQL's text form (`{a,b}`, `{"a b","c\"d"}`, `{}`);
    /// NULL elements are not expected (series names are NOT NULL).
    static func parseTexts(_ text: String, operation: String) throws(StoreError) -> [String] {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
            throw .postgres(sqlState: "XX000", operation: operation, message: "\"\(text)\" is not a text array")
        }
        var elements: [String] = []
        var current: [UInt8] = []
        var isQuoted = false
        var hasElement = false
        var index = 1
        while index < bytes.count - 1 {
            let byte = bytes[index]
            if isQuoted {
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count - 1 {
                    index += 1
                    current.append(bytes[index])
                } else if byte == UInt8(ascii: "\"") {
                    isQuoted = false
                } else {
                    current.append(byte)
                }
            } else if byte == UInt8(ascii: "\"") {
                isQuoted = true
                hasElement = true
            } else if byte == UInt8(ascii: ",") {
                elements.append(String(decoding: current, as: UTF8.self))
                current.removeAll()
                hasElement = false
            } else {
                current.append(byte)
                hasElement = true
            }
            index += 1
        }
        if hasElement || !elements.isEmpty { elements.append(String(decoding: current, as: UTF8.self)) }
        return elements
    }
}
