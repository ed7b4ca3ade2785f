// Writing JSON straight into a UTF-8 byte array, compact (no whitespace), for API responses and REST bodies.
//
// Separators are automatic: one flag, `needsComma`, is true after a complete value and false right after an
// opening bracket or a key, so the writer keeps no container stack. It trusts its caller to nest calls correctly
// (a key only inside an object and followed by one value); it does not check.

/// Builds compact JSON as UTF-8 bytes.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.beginObject()
/// writer.key("batches")
/// writer.value(1)
/// writer.endObject()
/// writer.bytes  // {"batches":1}
/// ```
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8]
    /// True after a complete value: the next key or value needs a `,` first.
    private var needsComma = false

    /// An empty writer whose buffer has room for `capacity` bytes before it grows.
    public init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Opens an object.
    public mutating func beginObject() { open(UInt8(ascii: "{")) }

    /// Closes the innermost object.
    public mutating func endObject() { close(UInt8(ascii: "}")) }

    /// Opens an array.
    public mutating func beginArray() { open(UInt8(ascii: "[")) }

    /// Closes the innermost array.
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// Writes an object member's name; the member's value comes next.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a string.
    public mutating func value(_ string: String) {
        separate()
        appendQuoted(string)
        needsComma = true
    }

    /// Writes an integer.
    public mutating func value(_ integer: Int) { value(Int64(integer)) }

    /// Writes an integer.
    public mutating func value(_ integer: Int64) {
        separate()
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(integer.magnitude)
        needsComma = true
    }

    /// Writes an unsigned integer.
    public mutating func value(_ integer: UInt64) {
        separate()
        appendDigits(integer)
        needsComma = true
    }

    /// Writes a Double in its shortest form that reads back to the same Double (`21.54`, `1e-05`, `-0.0`,
    /// integral values as `21.0`).
    ///
    /// JSON has no infinity or NaN: a non-finite value is written as `null`, as JavaScript's `JSON.stringify` does.
    public mutating func value(_ number: Double) {
        guard number.isFinite else { return null() }
        separate()
        // Swift's `description` is the shortest digit string that round-trips, and every form it produces for a
        // finite value (`21.54`, `1e+16`, `5e-324`, `-0.0`) is a valid JSON number. Short results are small strings:
        // no allocation.
        bytes.append(contentsOf: number.description.utf8)
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func value(_ bool: Bool) {
        separate()
        bytes.append(contentsOf: bool ? Self.trueLiteral : Self.falseLiteral)
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: Self.nullLiteral)
        needsComma = true
    }

    /// Writes a whole `JSONValue`; numbers are written as their literal text (which must be a valid JSON number).
    public mutating func value(_ json: JSONValue) {
        switch json {
        case .null: null()
        case .bool(let bool): value(bool)
        case .string(let string): value(string)
        case .number(let text):
            separate()
            bytes.append(contentsOf: text.utf8)
            needsComma = true
        case .array(let elements):
            beginArray()
            for element in elements { value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                value(member.value)
            }
            endObject()
        }
    }

    // MARK: Bytes

    private static let trueLiteral: [UInt8] = Array("true".utf8)
    private static let falseLiteral: [UInt8] = Array("false".utf8)
    private static let nullLiteral: [UInt8] = Array("null".utf8)

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        needsComma = true
    }

    /// Appends the decimal digits of `value`.
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        let start = bytes.count
        var rest = value
        while rest > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        bytes[start...].reverse()
    }

    /// Appends `string` in quotes, escaping `"`, `\` and the control characters U+0000–U+001F (with the short
    /// forms `\b \f \n \r \t` where JSON has them). Everything else is copied as UTF-8.
    private mutating func appendQuoted(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                appendEscape(byte)
                runStart = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the escape sequence for a byte that must not appear raw in a JSON string.
    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            bytes.append(UInt8(ascii: "u"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(Self.hexDigit(byte >> 4))
            bytes.append(Self.hexDigit(byte & 0x0F))
        }
    }
}
