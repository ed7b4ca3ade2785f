// The JSON grammar as the scanner enforces it: what RFC 8259 accepts is accepted, everything else is refused with
// a syntax error at the first byte that cannot be accepted (`‸` marks it in the tables).

import Testing

@testable import Telemetry

@Suite("JSON scanner: grammar")
struct JSONScannerTests {
    // MARK: Numbers

    @Test(
        "number literals RFC 8259 accepts",
        arguments: [
            "0", "-0", "1", "-1", "123", "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "0e0", "-0.0e-0",
            "12345678901234567890123", "1e0001", "0.000001", "9007199254740993", "-9223372036854775809",
        ])
    func acceptsNumber(_ literal: String) throws {
        #expect(try JSONValue.parse(Array(literal.utf8)) == .number(literal))
        #expect(try JSONValue.parse(Array(" [ \(literal) ] ".utf8)) == .array([.number(literal)]))
    }

    @Test(
        "number literals RFC 8259 refuses",
        arguments: [
            ("‸01", "leading zeros are not allowed"),
            ("-‸01", "leading zeros are not allowed"),
            ("‸00.5", "leading zeros are not allowed"),
            ("‸+1", "expected a value"),
            ("‸.5", "expected a value"),
            ("1.‸", "unexpected end of input"),
            ("1.‸e5", "expected a digit"),
            ("1e‸", "unexpected end of input"),
            ("1e+‸", "unexpected end of input"),
            ("1e‸e", "expected a digit"),
            ("1E-‸", "unexpected end of input"),
            ("1e-‸x", "expected a digit"),
            ("-‸", "unexpected end of input"),
            ("-‸a", "expected a digit"),
            ("-‸ 1", "expected a digit"),
            ("‸NaN", "expected a value"),
            ("‸Infinity", "expected a value"),
            ("-‸Infinity", "expected a digit"),
            ("0‸x10", "unexpected data after the JSON value"),
            ("1.5‸.3", "unexpected data after the JSON value"),
            ("[1,‸]", "expected a value"),
            ("[-‸]", "expected a digit"),
        ] as [(String, String)])
    func refusesNumber(_ input: String, _ text: String) {
        let marked = Marked(input)
        let error = valueError(marked.bytes)
        #expect(error?.reason == .syntax(text), "\(marked)")
        #expect(error?.offset == marked.offset, "\(marked)")
    }

    // MARK: Strings

    @Test(
        "string escapes and UTF-8 decode to the text they spell",
        arguments: [
            (#""abc""#, "abc"),
            (#""""#, ""),
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
            (#""\u0041\u00e9\u00E9""#, "Aéé"),
            (#""\u20AC""#, "€"),
            (#""\uD83D\uDE00""#, "😀"),
            (#""\ud83d\ude00""#, "😀"),
            (#""\uDBFF\uDFFF""#, "\u{10FFFF}"),
            (#""\u0000""#, "\u{0}"),
            (#""\u001f\u007f""#, "\u{1F}\u{7F}"),
            ("\"é€😀\u{10FFFF}\"", "é€😀\u{10FFFF}"),
            ("\"\u{7F}\"", "\u{7F}"),
            (#""a/b""#, "a/b"),
            (#""x\uD83D\uDE00y\n""#, "x😀y\n"),
        ] as [(String, String)])
    func decodesString(_ literal: String, _ expected: String) throws {
        #expect(try JSONValue.parse(Array(literal.utf8)) == .string(expected))
    }

    @Test(
        "strings RFC 8259 refuses",
        arguments: [
            ("\"a‸\u{1}\"", "control character in string"),
            ("\"a‸\tb\"", "control character in string"),
            ("\"a‸\nb\"", "control character in string"),
            (#""‸\x""#, "invalid escape"),
            (#""‸\'""#, "invalid escape"),
            (#""‸\U0041""#, "invalid escape"),
            (#""\u12‸G4""#, #"invalid \u escape"#),
            (#""\u‸""#, #"invalid \u escape"#),
            (#""‸\uD800""#, "lone surrogate"),
            (#""‸\uDC00""#, "lone surrogate"),
            (#""‸\uDFFF\uD800""#, "lone surrogate"),
            (#""‸\uD800\u0041""#, "lone surrogate"),
            (#""‸\uD800\uD800""#, "lone surrogate"),
            (#""‸\uD800x""#, "lone surrogate"),
            (#""‸\uD800\n""#, "lone surrogate"),
            (#""abc‸"#, "unexpected end of input"),
            (#""abc\‸"#, "unexpected end of input"),
            (#""\u00‸"#, "unexpected end of input"),
            (#""\uD800‸"#, "unexpected end of input"),
            (#""\uD800\‸"#, "unexpected end of input"),
            (#""\uD800\uDC‸"#, "unexpected end of input"),
            ("‸'a'", "expected a value"),
        ] as [(String, String)])
    func refusesString(_ input: String, _ text: String) {
        let marked = Marked(input)
        let error = valueError(marked.bytes)
        #expect(error?.reason == .syntax(text), "\(marked)")
        #expect(error?.offset == marked.offset, "\(marked)")
    }

    @Test(
        "raw UTF-8 in strings: shortest forms of scalar values only",
        arguments: [
            ([0xC2, 0x80], true), ([0xDF, 0xBF], true), ([0xE0, 0xA0, 0x80], true), ([0xED, 0x9F, 0xBF], true),
            ([0xEE, 0x80, 0x80], true), ([0xEF, 0xBF, 0xBF], true), ([0xF0, 0x90, 0x80, 0x80], true),
            ([0xF4, 0x8F, 0xBF, 0xBF], true),
            ([0x80], false),  // lone continuation byte
            ([0xBF], false),
            ([0xC0, 0x80], false),  // overlong NUL
            ([0xC1, 0xBF], false),  // overlong
            ([0xE0, 0x80, 0x80], false),  // overlong
            ([0xE0, 0x9F, 0xBF], false),  // overlong
            ([0xED, 0xA0, 0x80], false),  // encoded surrogate U+D800
            ([0xED, 0xBF, 0xBF], false),  // encoded surrogate U+DFFF
            ([0xF0, 0x80, 0x80, 0x80], false),  // overlong
            ([0xF4, 0x90, 0x80, 0x80], false),  // above U+10FFFF
            ([0xF5, 0x80, 0x80, 0x80], false),
            ([0xFF], false), ([0xFE], false),
            ([0xC3, 0x28], false),  // continuation missing
            ([0xE2, 0x82], false),  // sequence cut by the closing quote
            ([0xE2, 0x28, 0xA1], false),
            ([0xF0, 0x90, 0x80], false),
        ] as [([UInt8], Bool)])
    func rawUTF8(_ sequence: [UInt8], _ isValid: Bool) throws {
        let input = [UInt8(ascii: "\""), UInt8(ascii: "a")] + sequence + [UInt8(ascii: "\"")]
        if isValid {
            #expect(try JSONValue.parse(input) == .string("a" + String(decoding: sequence, as: UTF8.self)))
        } else {
            #expect(valueError(input) == DecodeError(.syntax("invalid UTF-8"), offset: 2))
        }
    }

    @Test("a UTF-8 sequence cut by the end of the input is a truncation")
    func truncatedUTF8() {
        #expect(valueError([0x22, 0xE2, 0x82]) == DecodeError(.syntax("unexpected end of input"), offset: 3))
        #expect(valueError([0x22, 0xF0]) == DecodeError(.syntax("unexpected end of input"), offset: 2))
    }

    // MARK: Structure and literals

    @Test(
        "documents RFC 8259 accepts",
        arguments: [
            ("{}", JSONValue.object([])),
            ("[]", .array([])),
            (" \t\r\n[ 1 ,\n2 ]\r\n ", .array([.number("1"), .number("2")])),
            (
                #"{"a":[{"b":null}],"c":true,"d":false}"#,
                .object([
                    .init(key: "a", value: .array([.object([.init(key: "b", value: .null)])])),
                    .init(key: "c", value: .bool(true)), .init(key: "d", value: .bool(false)),
                ])
            ),
            (
                #"{ "z" : 1 , "a" : 2 }"#,
                .object([.init(key: "z", value: .number("1")), .init(key: "a", value: .number("2"))])
            ),
            ("true", .bool(true)),
            ("null", .null),
            (#""top""#, .string("top")),
            ("[[[]]]", .array([.array([.array([])])])),
        ] as [(String, JSONValue)])
    func acceptsDocument(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONValue.parse(Array(text.utf8)) == expected)
    }

    @Test(
        "documents RFC 8259 refuses",
        arguments: [
            ("‸", "unexpected end of input"),
            (" \n‸", "unexpected end of input"),
            ("{‸,}", "expected a string key"),
            ("{‸1:2}", "expected a string key"),
            ("{‸'a':2}", "expected a string key"),
            (#"{"a"‸}"#, "expected ':'"),
            (#"{"a" ‸1}"#, "expected ':'"),
            (#"{"a":‸}"#, "expected a value"),
            (#"{"a":1‸]"#, "expected ',' or '}'"),
            (#"{"a":1 ‸"b":2}"#, "expected ',' or '}'"),
            (#"{"a":1,‸}"#, "expected a string key"),
            (#"{"a":1‸"#, "unexpected end of input"),
            ("[1‸}", "expected ',' or ']'"),
            ("[1 ‸2]", "expected ',' or ']'"),
            ("[‸,1]", "expected a value"),
            ("[1,‸,]", "expected a value"),
            ("[1,2‸", "unexpected end of input"),
            ("[‸", "unexpected end of input"),
            ("[1]‸[2]", "unexpected data after the JSON value"),
            ("[1]‸,", "unexpected data after the JSON value"),
            ("{}‸}", "unexpected data after the JSON value"),
            ("tru‸", "unexpected end of input"),
            ("nul‸", "unexpected end of input"),
            ("‸trux", "invalid literal"),
            ("‸nulL", "invalid literal"),
            ("[‸fals]", "invalid literal"),
            ("‸True", "expected a value"),
            ("‸// comment", "expected a value"),
            ("[‸\u{0C}]", "expected a value"),  // form feed is not JSON whitespace
            ("[‸\u{A0}]", "expected a value"),  // nor is NO-BREAK SPACE
            ("‸\u{FEFF}[]", "expected a value"),  // a byte order mark is refused
        ] as [(String, String)])
    func refusesDocument(_ input: String, _ text: String) {
        let marked = Marked(input)
        let error = valueError(marked.bytes)
        #expect(error?.reason == .syntax(text), "\(marked)")
        #expect(error?.offset == marked.offset, "\(marked)")
    }

    @Test("nesting up to the depth limit is accepted; one more level is refused where it opens")
    func depthLimit() throws {
        let limit = JSONScanner.defaultMaxDepth
        let deepest =
            [UInt8](repeating: UInt8(ascii: "["), count: limit) + [UInt8](repeating: UInt8(ascii: "]"), count: limit)
        #expect(throws: Never.self) { try JSONValue.parse(deepest) }
        let tooDeep =
            [UInt8](repeating: UInt8(ascii: "["), count: limit + 1)
            + [UInt8](repeating: UInt8(ascii: "]"), count: limit + 1)
        #expect(
            valueError(tooDeep)
                == DecodeError(
                    .syntax("nesting deeper than \(limit) levels"), path: String(repeating: "[0]", count: limit),
                    offset: limit))
        let objects = Array(String(repeating: #"{"a":"#, count: 3).utf8)
        #expect(throws: DecodeError(.syntax("nesting deeper than 2 levels"), path: "a.a", offset: 10)) {
            try JSONValue.parse(objects + [0x31, 0x7D, 0x7D, 0x7D], maxDepth: 2)
        }
    }

    @Test("a million opening brackets are refused at the depth limit, without deep recursion")
    func hostileNesting() {
        let input = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(valueError(input)?.reason == .syntax("nesting deeper than \(JSONScanner.defaultMaxDepth) levels"))
    }

    // MARK: The pull interface

    @Test("walking a document with the pull interface yields tokens in order and types are checked")
    func pullWalk() throws {
        let text = Array(#" {"n": -12.5e1, "s": "a\nb", "list": [true, null], "k": 7} "#.utf8)
        try JSONScanner.scan(text) { (scanner) throws(DecodeError) in
            try scanner.beginObject()
            #expect(scanner.depth == 1)
            let n = try scanner.nextKey()
            #expect(n.map { scanner.string($0, equals: "n") } == true)
            let number = try scanner.readNumber()
            #expect(!number.isInteger && number.isNegative && scanner.double(number) == -125)
            #expect(scanner.int64(number) == nil)
            let s = try scanner.nextKey()
            #expect(s.map { scanner.string($0) } == "s")
            let string = try scanner.readString()
            #expect(string.hasEscapes && scanner.string(string) == "a\nb")
            _ = try scanner.nextKey()
            #expect(try scanner.peekKind() == .array)
            try scanner.skipValue()
            _ = try scanner.nextKey()
            #expect(try scanner.peekKind() == .number)
            #expect(throws: DecodeError(.expected("string"), offset: 56)) { try scanner.readString() }
            let k = try scanner.readNumber()
            #expect(k.isInteger && scanner.int64(k) == 7 && scanner.uint64(k) == 7)
            #expect(try scanner.nextKey() == nil)
            #expect(scanner.depth == 0)
            try scanner.finish()
        }
    }
}
