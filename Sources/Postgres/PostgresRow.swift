/// One result row in PostgreSQL's text format, with readers for the types the storage backend uses.
///
/// It exists so that callers read `Int`, `Double`, `Bool` and `bytea` bytes from a row without knowing the text
/// forms: a NULL reads as nil, a value that is not of the asked type throws a `PostgresError` (call `decode`) that
/// names the column and quotes the text.
public struct PostgresRow: Sendable, Equatable {
    /// The values in text format, nil for SQL NULL.
    public var values: [String?]

    /// A row of the given text values.
    public init(values: [String?]) {
        self.values = values
    }

    /// The text of column `index` (nil for NULL).
    public subscript(index: Int) -> String? { values[index] }

    /// The text of column `index` (nil for NULL).
    public func string(at index: Int) -> String? { values[index] }

    /// Column `index` as an integer (`smallint`, `integer`, `bigint`).
    public func int(at index: Int) throws(PostgresError) -> Int64? {
        guard let text = values[index] else { return nil }
        guard let value = Int64(text) else { throw decodeError(index, text, "an integer") }
        return value
    }

    /// Column `index` as a `Double` (`real`, `double precision`, `numeric` within its range; `NaN`, `Infinity`).
    public func double(at index: Int) throws(PostgresError) -> Double? {
        guard let text = values[index] else { return nil }
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw decodeError(index, text, "a number") }
            return value
        }
    }

    /// Column `index` as a `Bool` (`boolean`: the server writes `t` or `f`).
    public func bool(at index: Int) throws(PostgresError) -> Bool? {
        switch values[index] {
        case nil: return nil
        case "t": return true
        case "f": return false
        case let text?: throw decodeError(index, text, "a boolean")
        }
    }

    /// Column `index` as the bytes of a `bytea`, from its hex text form `\x0a1b…` (the server's default
    /// `bytea_output`; the older escape form is refused).
    public func bytes(at index: Int) throws(PostgresError) -> [UInt8]? {
        guard let text = values[index] else { return nil }
        let hex = Array(text.utf8)
        guard hex.count >= 2, hex[0] == UInt8(ascii: "\\"), hex[1] == UInt8(ascii: "x"), hex.count % 2 == 0 else {
            throw decodeError(index, text, "bytea in hex form")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2 - 1)
        var position = 2
        while position < hex.count {
            guard let high = PostgresURL.hexValue(hex[position]), let low = PostgresURL.hexValue(hex[position + 1])
            else { throw decodeError(index, text, "bytea in hex form") }
            bytes.append(high << 4 | low)
            position += 2
        }
        return bytes
    }

    private func decodeError(_ index: Int, _ text: String, _ expected: String) -> PostgresError {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return PostgresError(call: "decode", message: "column \(index) is \"\(shown)\", not \(expected)")
    }
}
