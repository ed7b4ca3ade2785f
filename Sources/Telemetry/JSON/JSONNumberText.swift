// Converting a JSON number literal (already checked against the grammar) to Int64, UInt64 or Double.
//
// Doubles are correctly rounded, the same as `Double(String)`:
// - Fast path (Clinger 1990): when the literal's significant digits form an integer w ≤ 2^53 and its decimal
//   exponent e satisfies |e| ≤ 22, both w and 10^|e| are exact Doubles, so the single IEEE multiplication or
//   division w × 10^e (w ÷ 10^−e) is the correctly rounded result. Exponents up to 22 + 15 are moved into w while
//   w stays ≤ 2^53. This covers what sensors send (`21.54`, `1013.2`, `-3.917`).
// - Otherwise glibc's `strtod`, which is correctly rounded, on a NUL-terminated copy rewritten as `[-]digits e exp`
//   (no decimal point, so the C locale's LC_NUMERIC cannot matter). Past 800 significant digits the rest is
//   replaced by one sticky `1` digit when any of it is non-zero: every Double and every midpoint between two
//   Doubles has at most 767 significant digits, so no rounding boundary lies strictly between the truncated value
//   and the true one, and the result is unchanged while the work stays bounded.

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Conversions of validated JSON number literals.
enum JSONNumberText {
    /// The literal's value as an Int64; nil when it does not fit. The literal must be an integer literal.
    static func int64(_ text: UnsafeRawBufferPointer) -> Int64? {
        guard let (isNegative, magnitude) = integerMagnitude(text) else { return nil }
        if isNegative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The literal's value as a UInt64; nil when it is negative (other than `-0`) or too large. The literal must be
    /// an integer literal.
    static func uint64(_ text: UnsafeRawBufferPointer) -> UInt64? {
        guard let (isNegative, magnitude) = integerMagnitude(text) else { return nil }
        guard !isNegative || magnitude == 0 else { return nil }
        return magnitude
    }

    /// Sign and absolute value of an integer literal; nil when the absolute value exceeds UInt64.
    private static func integerMagnitude(_ text: UnsafeRawBufferPointer) -> (Bool, UInt64)? {
        let isNegative = text[0] == UInt8(ascii: "-")
        var i = isNegative ? 1 : 0
        var magnitude: UInt64 = 0
        if text.count - i <= 19 {  // 19 digits always fit
            while i < text.count {
                magnitude = magnitude &* 10 &+ UInt64(text[i] &- UInt8(ascii: "0"))
                i += 1
            }
            return (isNegative, magnitude)
        }
        while i < text.count {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(text[i] &- UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            i += 1
        }
        return (isNegative, magnitude)
    }

    /// Exact powers of ten as Doubles, 10^0 … 10^22.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The largest integer below which every integer is an exact Double.
    private static let exactIntegerLimit: UInt64 = 1 << 53

    /// Explicit exponents are saturated here: far beyond any finite or non-zero Double, far from Int overflow.
    private static let exponentSaturation = 1_000_000_000

    /// The literal's value correctly rounded to a Double; ±infinity when it is too large, ±0 when too small.
    static func double(_ text: UnsafeRawBufferPointer) -> Double {
        let isNegative = text[0] == UInt8(ascii: "-")
        var i = isNegative ? 1 : 0
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var isMantissaExact = true
        while i < text.count, JSONScanner.isDigit(text[i]) {
            let digit = text[i] &- UInt8(ascii: "0")
            if significantDigits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                if mantissa != 0 { significantDigits += 1 }
            } else {
                exponent += 1
                if digit != 0 { isMantissaExact = false }
            }
            i += 1
        }
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            while i < text.count, JSONScanner.isDigit(text[i]) {
                let digit = text[i] &- UInt8(ascii: "0")
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    if mantissa != 0 { significantDigits += 1 }
                    exponent -= 1
                } else if digit != 0 {
                    isMantissaExact = false
                }
                i += 1
            }
        }
        if i < text.count { exponent += explicitExponent(text, from: i + 1) }

        if isMantissaExact {
            if mantissa == 0 { return isNegative ? -0.0 : 0.0 }
            if mantissa <= exactIntegerLimit {
                var value: Double?
                if exponent >= 0 && exponent <= 22 {
                    value = Double(mantissa) * powersOfTen[exponent]
                } else if exponent < 0 && exponent >= -22 {
                    value = Double(mantissa) / powersOfTen[-exponent]
                } else if exponent > 22 && exponent <= 22 + 15 {
                    // Move powers of ten into the mantissa while it stays exact (checked before each step, so
                    // the product never wraps).
                    var shifted = mantissa
                    var remaining = exponent - 22
                    while remaining > 0 && shifted <= exactIntegerLimit / 10 {
                        shifted *= 10
                        remaining -= 1
                    }
                    if remaining == 0 { value = Double(shifted) * powersOfTen[22] }
                }
                if let value { return isNegative ? -value : value }
            }
        }
        return slowDouble(text)
    }

    /// The value of the exponent digits starting at `start` (after `e`/`E`), with their sign, saturated.
    private static func explicitExponent(_ text: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        var isNegative = false
        if text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
            isNegative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        var value = 0
        while i < text.count {
            if value < exponentSaturation { value = value * 10 + Int(text[i] &- UInt8(ascii: "0")) }
            i += 1
        }
        return isNegative ? -value : value
    }

    /// Significant digits handed to `strtod` before the rest is folded into a sticky digit.
    private static let maxSignificantDigits = 800

    /// The correctly rounded value through glibc `strtod`, on the literal rewritten as `[-]digits e exp`.
    static func slowDouble(_ text: UnsafeRawBufferPointer) -> Double {
        // sign + digits + sticky digit + "e" + sign + 20 exponent digits + NUL
        let capacity = min(text.count, maxSignificantDigits) + 32
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = CChar(bitPattern: byte)
                count += 1
            }
            let isNegative = text[0] == UInt8(ascii: "-")
            if isNegative { put(UInt8(ascii: "-")) }
            var i = isNegative ? 1 : 0
            var digitCount = 0
            var exponent = 0
            var isSticky = false
            var isInFraction = false
            while i < text.count {
                let byte = text[i]
                if byte == UInt8(ascii: ".") {
                    isInFraction = true
                } else if JSONScanner.isDigit(byte) {
                    if digitCount == 0 && byte == UInt8(ascii: "0") {
                        if isInFraction { exponent -= 1 }  // leading zero
                    } else if digitCount < maxSignificantDigits {
                        put(byte)
                        digitCount += 1
                        if isInFraction { exponent -= 1 }
                    } else {
                        if !isInFraction { exponent += 1 }
                        if byte != UInt8(ascii: "0") { isSticky = true }
                    }
                } else {
                    exponent += explicitExponent(text, from: i + 1)
                    break
                }
                i += 1
            }
            if digitCount == 0 { return isNegative ? -0.0 : 0.0 }
            if isSticky {
                put(UInt8(ascii: "1"))
                exponent -= 1
            }
            put(UInt8(ascii: "e"))
            if exponent < 0 { put(UInt8(ascii: "-")) }
            var magnitude = exponent.magnitude
            let exponentStart = count
            repeat {
                put(UInt8(ascii: "0") + UInt8(magnitude % 10))
                magnitude /= 10
            } while magnitude > 0
            buffer[exponentStart..<count].reverse()
            put(0)
            return strtod(buffer.baseAddress!, nil)
        }
    }
}
