// Strings: validated in one pass when read, decoded only when the caller wants the text.
//
// Validation rules (RFC 8259 §7 and RFC 3629): no unescaped byte below 0x20; escapes are `\" \\ \/ \b \f \n \r \t`
// and `\uXXXX`; a `\u` high surrogate (D800–DBFF) must be followed at once by a `\u` low surrogate (DC00–DFFF) and
// a low surrogate never stands alone; raw bytes ≥ 0x80 must form shortest-form UTF-8 of a scalar value (no
// overlong forms, no encoded surrogates, nothing above U+10FFFF).

/// Where a validated string's content lies in the input, and whether it contains escapes.
///
/// Without escapes the content bytes are already the string's UTF-8, so comparing or copying needs no decoding.
public struct JSONStringToken: Equatable, Sendable {
    /// The content between the quotes, as offsets into the input.
    public var range: Range<Int>
    /// True when the content contains at least one backslash escape.
    public var hasEscapes: Bool
}

extension JSONScanner {
    /// Reads a string, checking escapes and UTF-8; returns where its content is.
    public mutating func readString() throws(DecodeError) -> JSONStringToken {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw mismatch(.string) }
        position += 1
        let start = position
        var hasEscapes = false
        while true {
            // The common run of plain ASCII, scanned with a local cursor the optimizer keeps in a register.
            var cursor = position
            while cursor < bytes.count {
                let byte = bytes[cursor]
                guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else {
                    break
                }
                cursor += 1
            }
            position = cursor
            guard position < bytes.count else { throw syntaxError("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return JSONStringToken(range: start..<(position - 1), hasEscapes: hasEscapes)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if byte < 0x20 {
                throw DecodeError(.syntax("control character in string"), offset: position)
            } else {
                try scanUTF8Sequence()
            }
        }
    }

    /// Checks the escape at `position` (a backslash) and moves past it.
    private mutating func scanEscape() throws(DecodeError) {
        let escapeStart = position
        position += 1
        guard position < bytes.count else { throw syntaxError("invalid escape") }
        switch bytes[position] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 1
        case UInt8(ascii: "u"):
            position += 1
            let unit = try scanHex4()
            if unit >= 0xDC00 && unit <= 0xDFFF {
                throw DecodeError(.syntax("lone surrogate"), offset: escapeStart)
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard position < bytes.count else { throw syntaxError(Self.endOfInput) }
                guard bytes[position] == UInt8(ascii: "\\") else {
                    throw DecodeError(.syntax("lone surrogate"), offset: escapeStart)
                }
                guard position + 1 < bytes.count else {
                    throw DecodeError(.syntax(Self.endOfInput), offset: bytes.count)
                }
                guard bytes[position + 1] == UInt8(ascii: "u") else {
                    throw DecodeError(.syntax("lone surrogate"), offset: escapeStart)
                }
                position += 2
                let low = try scanHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw DecodeError(.syntax("lone surrogate"), offset: escapeStart)
                }
            }
        default:
            throw DecodeError(.syntax("invalid escape"), offset: escapeStart)
        }
    }

    /// Reads the four hex digits of a `\u` escape.
    private mutating func scanHex4() throws(DecodeError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw syntaxError("invalid \\u escape") }
            guard let digit = Self.hexValue(bytes[position]) else {
                throw DecodeError(.syntax("invalid \\u escape"), offset: position)
            }
            unit = unit << 4 | UInt16(digit)
            position += 1
        }
        return unit
    }

    /// The value of a hex digit, if `byte` is one.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Checks the multi-byte UTF-8 sequence whose lead byte (≥ 0x80) is at `position` and moves past it.
    private mutating func scanUTF8Sequence() throws(DecodeError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw DecodeError(.syntax("invalid UTF-8"), offset: position)
        }
        for i in 1..<length {
            guard position + i < bytes.count else { throw DecodeError(.syntax(Self.endOfInput), offset: bytes.count) }
            let byte = bytes[position + i]
            guard i == 1 ? secondRange.contains(byte) : (byte & 0xC0 == 0x80) else {
                throw DecodeError(.syntax("invalid UTF-8"), offset: position)
            }
        }
        position += length
    }

    // MARK: Using a token

    /// The string's text.
    public func string(_ token: JSONStringToken) -> String {
        let content = UnsafeRawBufferPointer(rebasing: bytes[token.range])
        if !token.hasEscapes { return String(decoding: content, as: UTF8.self) }
        return String(decoding: Self.unescape(content), as: UTF8.self)
    }

    /// The string's UTF-8 bytes, escapes decoded.
    public func utf8(_ token: JSONStringToken) -> [UInt8] {
        let content = UnsafeRawBufferPointer(rebasing: bytes[token.range])
        return token.hasEscapes ? Self.unescape(content) : Array(content)
    }

    /// True when the string's text is exactly `literal` (compared without decoding when it has no escapes).
    @inline(__always)
    public func string(_ token: JSONStringToken, equals literal: StaticString) -> Bool {
        guard !token.hasEscapes else { return literal.withUTF8Buffer { utf8(token).elementsEqual($0) } }
        guard token.range.count == literal.utf8CodeUnitCount else { return false }
        var i = 0
        while i < token.range.count {
            guard bytes[token.range.lowerBound + i] == literal.utf8Start[i] else { return false }
            i += 1
        }
        return true
    }

    /// Calls `body` with the string's UTF-8 bytes, decoding escapes into a temporary copy only when there are some.
    func withUTF8<Result>(_ token: JSONStringToken, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let content = UnsafeRawBufferPointer(rebasing: bytes[token.range])
        guard token.hasEscapes else { return body(content) }
        return Self.unescape(content).withUnsafeBytes(body)
    }

    /// Decodes the escapes of validated string content into UTF-8.
    static func unescape(_ content: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var i = 0
        while i < content.count {
            let byte = content[i]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                i += 1
                continue
            }
            let escaped = content[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(hex4(content, at: i))
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = UInt32(hex4(content, at: i + 2))
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(scalar, to: &out)
            default: out.append(escaped)  // " \ /
            }
        }
        return out
    }

    /// The value of four hex digits known to be valid.
    private static func hex4(_ content: UnsafeRawBufferPointer, at offset: Int) -> UInt16 {
        var unit: UInt16 = 0
        for i in offset..<(offset + 4) { unit = unit << 4 | UInt16(hexValue(content[i])!) }
        return unit
    }

    /// Appends the UTF-8 form of a Unicode scalar value.
    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
