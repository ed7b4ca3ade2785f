// Number conversion: integers exactly or not at all; Doubles bit-for-bit equal to `Double(String)`, including the
// hard cases (exact midpoints between two Doubles and their nearest neighbours, subnormals, huge digit counts).

import SplitMix
import Testing

@testable import Telemetry

@Suite("JSON numbers: conversion")
struct JSONNumberTextTests {
    /// Converts `literal` with the scanner, as the decoders do.
    private func token(_ literal: String, _ body: (JSONScanner, JSONNumberToken) -> Void) {
        var text = literal
        text.withUTF8 { utf8 in
            var scanner = JSONScanner(UnsafeRawBufferPointer(utf8))
            guard let token = try? scanner.readNumber(), token.range == 0..<utf8.count else {
                Issue.record("not a JSON number: \(literal)")
                return
            }
            body(scanner, token)
        }
    }

    private func double(_ literal: String) -> Double {
        var result = Double.nan
        token(literal) { scanner, token in result = scanner.double(token) }
        return result
    }

    @Test(
        "integer literals convert to Int64 exactly, or not at all",
        arguments: [
            ("0", 0), ("-0", 0), ("17", 17), ("-17", -17), ("1732190000123", 1_732_190_000_123),
            ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
            ("9223372036854775808", nil), ("-9223372036854775809", nil), ("99999999999999999999", nil),
            ("100000000000000000000000000000", nil), ("1.0", nil), ("1e3", nil), ("-5E0", nil),
        ] as [(String, Int64?)])
    func int64(_ literal: String, _ expected: Int64?) {
        token(literal) { scanner, token in #expect(scanner.int64(token) == expected) }
    }

    @Test(
        "integer literals convert to UInt64 exactly, or not at all",
        arguments: [
            ("0", 0), ("-0", 0), ("1", 1), ("18446744073709551615", UInt64.max), ("18446744073709551616", nil),
            ("99999999999999999999", nil), ("-1", nil), ("-18446744073709551615", nil), ("2.0", nil), ("2e0", nil),
        ] as [(String, UInt64?)])
    func uint64(_ literal: String, _ expected: UInt64?) {
        token(literal) { scanner, token in #expect(scanner.uint64(token) == expected) }
    }

    @Test(
        "hand-picked Double conversions equal Double(String) bit for bit",
        arguments: [
            "0", "-0", "0.0", "-0.0", "0e999999999999", "-0e-5", "21.54", "1013.2", "3.917", "-3.917", "0.1", "0.3",
            "1e23", "18447e37", "1844674407370955e36", "9007199254740992e37", "9007199254740993e22",
            "8.98846567431158e307", "9007199254740993", "9007199254740993.0000000000000001",
            "9007199254740992.9999999999999999", "123456789012345678901234567890", "1e22", "1e37", "123e30",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e400",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9406564584124654e-324", "5e-324",
            "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "-1e-400", "1e-1000000000000",
            "1e1000000000000", "0.1000000000000000055511151231257827021181583404541015625",
            "0.1000000000000000055511151231257827021181583404541015624",
            "0.1000000000000000055511151231257827021181583404541015626", "1e-22", "1e-23", "4503599627370496.5",
            "4503599627370497.5", "72057594037927928", "72057594037927936", "7.2057594037927928e16",
            "0.00000000000000000000000000000000000001", "100000000000000000000000000000000000000000000000000e-50",
            "1" + String(repeating: "0", count: 400) + "e-400", "0." + String(repeating: "0", count: 330) + "5",
        ])
    func handPicked(_ literal: String) throws {
        let expected = try #require(Double(literal))
        #expect(double(literal).bitPattern == expected.bitPattern, "\(literal)")
    }

    @Test("random decimal strings of every shape convert like Double(String)", arguments: [1, 2, 3, 4] as [UInt64])
    func randomStrings(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<5_000 {
            let literal = Self.randomLiteral(using: &random)
            let expected = try #require(Double(literal))
            let actual = double(literal)
            guard actual.bitPattern == expected.bitPattern else {
                Issue.record("\(literal): got \(actual), expected \(expected)")
                return
            }
        }
    }

    /// A random JSON number: 1–25 significant digits, sometimes leading or trailing zeros, a decimal point anywhere,
    /// an exponent from −340 to 320 or none.
    static func randomLiteral(using random: inout SplitMix64) -> String {
        let digitCount = Int.random(in: 1...25, using: &random)
        var digits = String(Int.random(in: 1...9, using: &random))
        for _ in 1..<digitCount { digits += String(Int.random(in: 0...9, using: &random)) }
        if Bool.random(using: &random) {
            digits += String(repeating: "0", count: Int.random(in: 0...5, using: &random))
        }
        let pointAt = Int.random(in: 0...digits.count, using: &random)
        var literal: String
        if pointAt == 0 {
            literal = "0." + String(repeating: "0", count: Int.random(in: 0...3, using: &random)) + digits
        } else if pointAt == digits.count {
            literal = digits
        } else {
            literal = String(digits.prefix(pointAt)) + "." + String(digits.dropFirst(pointAt))
        }
        if Bool.random(using: &random) { literal = "-" + literal }
        if Int.random(in: 0..<4, using: &random) > 0 {
            literal += ["e", "E"].randomElement(using: &random)! + ["", "+", "-"].randomElement(using: &random)!
            literal += String(Int.random(in: 0...330, using: &random))
        }
        return literal
    }

    @Test(
        "exact midpoints between neighbouring Doubles, and the decimals just around them",
        arguments: [7, 8] as [UInt64])
    func midpoints(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var samples: [Double] = [
            .leastNonzeroMagnitude, .leastNormalMagnitude, .leastNormalMagnitude.nextDown, 1.0, 0.1, 21.54,
            Double(1 << 53), .greatestFiniteMagnitude.nextDown, 1e23, .leastNonzeroMagnitude * 3,
        ]
        for _ in 0..<150 {
            // Random bit patterns cover every binade; subnormals are drawn on purpose as well.
            let bits = UInt64.random(in: 0..<0x7FF0_0000_0000_0000, using: &random)
            samples.append(Double(bitPattern: bits))
            samples.append(Double(bitPattern: UInt64.random(in: 1..<(1 << 52), using: &random)))
        }
        for sample in samples where sample.isFinite && sample > 0 && sample < .greatestFiniteMagnitude {
            let exact = ExactDecimal.midpoint(above: sample)
            let midpoint = exact.text
            let cases = [
                midpoint,  // a tie: rounds to the even neighbour
                midpoint.appendingDigits("000000000000001"),  // just above: rounds up
                midpoint.decremented().appendingDigits("999999999999999"),  // just below: rounds down
                midpoint.appendingDigits(String(repeating: "0", count: 900) + "1"),  // past 800 digits: sticky
                exact.scientific,  // the same tie written with an exponent
            ]
            for text in cases {
                let expected = try #require(Double(text))
                let actual = double(text)
                guard actual.bitPattern == expected.bitPattern else {
                    Issue.record("\(text.prefix(60))… (\(text.count) chars): got \(actual), expected \(expected)")
                    return
                }
            }
            #expect(double(midpoint.appendingDigits("1")) == sample.nextUp)
            #expect(double(midpoint.decremented().appendingDigits("9")) == sample)
        }
    }
}

/// Exact decimal expansions of binary fractions, for building the hardest inputs a Double parser gets.
struct ExactDecimal {
    /// Decimal digits of the integer part; never empty.
    var integer: String
    /// Decimal digits after the point; may be empty.
    var fraction: String

    var text: String { fraction.isEmpty ? integer : integer + "." + fraction }

    /// The same value written as `d.ddde±x`.
    var scientific: String {
        let all = (integer + fraction)
        let firstNonZero = all.firstIndex { $0 != "0" }!
        let digits = all[firstNonZero...]
        let exponent = integer.count - 1 - all.distance(from: all.startIndex, to: firstNonZero)
        let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : "\(digits)"
        return "\(mantissa)e\(exponent)"
    }

    /// `significand × 2^exponent` exactly.
    init(significand: UInt64, exponent: Int) {
        var limbs = BigDecimalDigits(significand)
        if exponent >= 0 {
            for _ in 0..<exponent { limbs.multiply(by: 2) }
            integer = limbs.decimal
            fraction = ""
        } else {
            // m × 2^−k = m × 5^k / 10^k
            for _ in 0..<(-exponent) { limbs.multiply(by: 5) }
            var digits = limbs.decimal
            let places = -exponent
            if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
            integer = String(digits.prefix(digits.count - places))
            fraction = String(digits.suffix(places))
        }
    }

    /// The exact point halfway between `value` and the next larger Double.
    static func midpoint(above value: Double) -> ExactDecimal {
        let isSubnormal = value.exponentBitPattern == 0
        let significand = isSubnormal ? value.significandBitPattern : value.significandBitPattern | (1 << 52)
        let exponent = isSubnormal ? -1074 : Int(value.exponentBitPattern) - 1075
        return ExactDecimal(significand: significand * 2 + 1, exponent: exponent - 1)
    }
}

/// A non-negative integer in base 10^9 limbs, least significant first: just enough to multiply by 2 and 5.
struct BigDecimalDigits {
    private var limbs: [UInt64]

    init(_ value: UInt64) {
        limbs = []
        var rest = value
        repeat {
            limbs.append(rest % 1_000_000_000)
            rest /= 1_000_000_000
        } while rest > 0
    }

    mutating func multiply(by factor: UInt64) {
        var carry: UInt64 = 0
        for i in limbs.indices {
            let product = limbs[i] * factor + carry
            limbs[i] = product % 1_000_000_000
            carry = product / 1_000_000_000
        }
        if carry > 0 { limbs.append(carry) }
    }

    var decimal: String {
        var text = String(limbs.last!)
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }
}

extension String {
    /// This decimal with more digits after its last one (adding a point when it has none).
    func appendingDigits(_ digits: String) -> String {
        contains(".") ? self + digits : self + "." + digits
    }

    /// This decimal minus one unit in its last digit (it must not be zero).
    func decremented() -> String {
        var characters = Array(self)
        var i = characters.count - 1
        while true {
            if characters[i] == "." {
                i -= 1
                continue
            }
            if characters[i] == "0" {
                characters[i] = "9"
                i -= 1
            } else {
                characters[i] = Character(String(characters[i].wholeNumberValue! - 1))
                break
            }
        }
        while characters.count > 1 && characters[0] == "0" && characters[1] != "." { characters.removeFirst() }
        return String(characters)
    }
}
