// Numbers: the exact RFC 8259 grammar, checked as the literal is read,
//
//     number = [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ]
//
// so `01`, `+1`, `.5`, `1.`, `1.e5`, `NaN` and `Infinity` are refused. Conversion happens only when the caller
// asks, through `JSONNumberText`.

/// Where a validated number literal lies in the input, and whether it is written as an integer.
public struct JSONNumberToken: Equatable, Sendable {
    /// The literal's bytes, as offsets into the input.
    public var range: Range<Int>
    /// True when the literal has neither a fraction nor an exponent (`17`, `-0`), false for `1.0` or `1e3`.
    public var isInteger: Bool
    /// True when the literal starts with `-` (including `-0`).
    public var isNegative: Bool
}

extension JSONScanner {
    /// Reads a number literal, checking its grammar.
    public mutating func readNumber() throws(DecodeError) -> JSONNumberToken {
        skipWhitespace()
        let start = position
        guard position < bytes.count, Self.kind(startingWith: bytes[position]) == .number else {
            throw mismatch(.number)
        }
        let isNegative = bytes[position] == UInt8(ascii: "-")
        if isNegative { position += 1 }
        guard position < bytes.count else { throw syntaxError(Self.endOfInput) }
        let first = bytes[position]
        if first == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count && Self.isDigit(bytes[position]) {
                throw DecodeError(.syntax("leading zeros are not allowed"), offset: position - 1)
            }
        } else if Self.isDigit(first) {
            skipDigits()
        } else {
            throw DecodeError(.syntax("expected a digit"), offset: position)
        }
        var isInteger = true
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try requireDigits()
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-"))
            {
                position += 1
            }
            try requireDigits()
        }
        return JSONNumberToken(range: start..<position, isInteger: isInteger, isNegative: isNegative)
    }

    /// Moves past one or more digits; a syntax error when there is none.
    private mutating func requireDigits() throws(DecodeError) {
        guard position < bytes.count else { throw syntaxError(Self.endOfInput) }
        guard Self.isDigit(bytes[position]) else { throw DecodeError(.syntax("expected a digit"), offset: position) }
        skipDigits()
    }

    @inline(__always)
    private mutating func skipDigits() {
        var cursor = position
        while cursor < bytes.count && Self.isDigit(bytes[cursor]) { cursor += 1 }
        position = cursor
    }

    /// True for the ASCII digits 0–9.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    // MARK: Converting a token

    /// The number as an Int64; nil when it is not written as an integer or does not fit.
    public func int64(_ token: JSONNumberToken) -> Int64? {
        guard token.isInteger else { return nil }
        return JSONNumberText.int64(UnsafeRawBufferPointer(rebasing: bytes[token.range]))
    }

    /// The number as a UInt64; nil when it is not written as an integer, is negative (`-0` is 0) or does not fit.
    public func uint64(_ token: JSONNumberToken) -> UInt64? {
        guard token.isInteger else { return nil }
        return JSONNumberText.uint64(UnsafeRawBufferPointer(rebasing: bytes[token.range]))
    }

    /// The number as the nearest Double (correctly rounded, like `Double(String)`); ±infinity when out of range.
    public func double(_ token: JSONNumberToken) -> Double {
        JSONNumberText.double(UnsafeRawBufferPointer(rebasing: bytes[token.range]))
    }
}
