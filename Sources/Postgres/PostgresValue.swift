/// A statement parameter: text for everything PostgreSQL reads from text, raw bytes for `bytea`.
///
/// It exists so that callers pass values, not C strings: `nil` in a parameter list is SQL NULL, `.bytes` travels in
/// binary format (no hex or escaping, typed `bytea`), every other case in text format with its type left for the
/// server to infer from the statement (`$1` compared with a `bigint` column is read as one).
public enum PostgresValue: Sendable, Equatable {
    /// Text, sent as is (it must not contain a NUL byte, which PostgreSQL text cannot hold).
    case text(String)
    /// A `bytea` value, sent in binary format.
    case bytes([UInt8])
    /// An integer, sent as its decimal text.
    case int(Int64)
    /// A floating-point number, sent as the shortest text that reads back as the same `Double`.
    case double(Double)
    /// A boolean, sent as `t` or `f`.
    case bool(Bool)

    /// The object identifier of `bytea` in PostgreSQL's catalog (fixed since the type exists).
    static let byteaOID: UInt32 = 17

    /// What goes on the wire: the bytes, whether they are binary, and the declared type (0: the server infers).
    var wireForm: (bytes: [UInt8], isBinary: Bool, typeOID: UInt32) {
        switch self {
        case .text(let text): (Array(text.utf8), false, 0)
        case .bytes(let bytes): (bytes, true, Self.byteaOID)
        case .int(let value): (Array(String(value).utf8), false, 0)
        case .double(let value): (Array(Self.text(of: value).utf8), false, 0)
        case .bool(let value): (value ? [UInt8(ascii: "t")] : [UInt8(ascii: "f")], false, 0)
        }
    }

    /// PostgreSQL's spelling of `value`: Swift's shortest round-tripping form, with the non-finite values spelled
    /// as the server reads them.
    static func text(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return String(value)
    }
}
