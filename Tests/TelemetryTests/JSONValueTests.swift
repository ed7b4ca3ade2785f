// JSONValue: a strict parse into a tree, members in document order, numbers as their literal text, errors with the
// path of the value they were found in.

import Testing

@testable import Telemetry

@Suite("JSON value tree")
struct JSONValueTests {
    @Test("members keep document order and the accessors read them")
    func accessors() throws {
        let value = try JSONValue.parse(
            Array(#"{"z": 1, "a": "x", "list": [true, null, 2.5], "big": 18446744073709551615, "neg": -0}"#.utf8))
        #expect(value.objectValue?.map(\.key) == ["z", "a", "list", "big", "neg"])
        #expect(value["z"]?.int64Value == 1)
        #expect(value["a"]?.stringValue == "x")
        #expect(value["list"]?[0]?.boolValue == true)
        #expect(value["list"]?[1]?.isNull == true)
        #expect(value["list"]?[2]?.doubleValue == 2.5)
        #expect(value["list"]?[3] == nil)
        #expect(value["big"]?.uint64Value == UInt64.max)
        #expect(value["big"]?.int64Value == nil)
        #expect(value["neg"]?.uint64Value == 0)
        #expect(value["neg"]?.doubleValue?.sign == .minus)
        #expect(value["missing"] == nil)
    }

    @Test(
        "number accessors: integers only from integer literals, Doubles only when finite",
        arguments: [
            ("17", 17, 17, 17.0),
            ("-3", -3, nil, -3.0),
            ("1.0", nil, nil, 1.0),
            ("1e3", nil, nil, 1000.0),
            ("1e400", nil, nil, nil),
            ("9223372036854775808", nil, 9_223_372_036_854_775_808, 9.223372036854775808e18),
            ("not a number", nil, nil, nil),  // a hand-built .number holding anything
            ("1 ", nil, nil, nil),
        ] as [(String, Int64?, UInt64?, Double?)])
    func numberAccessors(_ text: String, _ int64: Int64?, _ uint64: UInt64?, _ double: Double?) {
        let value = JSONValue.number(text)
        #expect(value.int64Value == int64)
        #expect(value.uint64Value == uint64)
        #expect(value.doubleValue == double)
        #expect(value.numberText == text)
    }

    @Test(
        "errors carry the path of the value they were found in",
        arguments: [
            (
                #"{"items": [{"name": "a"}, {"name": ‸tru}]}"#, "items[1].name",
                DecodeError.Reason.syntax("invalid literal")
            ),
            (#"[[1, 2], [3, ‸x]]"#, "[1][1]", .syntax("expected a value")),
            (#"{"a": {"b": 1, ‸"b": 2}}"#, "a.b", .duplicateField),
            (#"{"k": 1, ‸"k": 1}"#, "k", .duplicateField),
            (#"{"a": [‸}"#, "a[0]", .syntax("expected a value")),
            (#"{"a": 1} ‸x"#, "", .syntax("unexpected data after the JSON value")),
        ] as [(String, String, DecodeError.Reason)])
    func errorPaths(_ input: String, _ path: String, _ reason: DecodeError.Reason) {
        let marked = Marked(input)
        #expect(valueError(marked.bytes) == DecodeError(reason, path: path, offset: marked.offset), "\(marked)")
    }

    @Test("duplicate keys are found among many members too")
    func duplicateAmongMany() {
        let members = (0..<40).map { #""k\#($0)": \#($0)"# }.joined(separator: ", ")
        #expect(throws: Never.self) { try JSONValue.parse(Array("{\(members)}".utf8)) }
        let input = Marked("{\(members), ‸\"k31\": 0}")
        #expect(valueError(input.bytes) == DecodeError(.duplicateField, path: "k31", offset: input.offset))
    }

    @Test("very long keys are cut in error paths")
    func longKeyPath() {
        let key = String(repeating: "k", count: 200)
        let error = valueError(Array(#"{"\#(key)": [x]}"#.utf8))
        #expect(error?.path == String(repeating: "k", count: 64) + "…[0]")
    }

    @Test("parses from any collection of bytes, contiguous or not")
    func collections() throws {
        let text = Array(#"[1,"a"]"#.utf8)
        let expected = JSONValue.array([.number("1"), .string("a")])
        #expect(try JSONValue.parse(text[...]) == expected)
        #expect(try JSONValue.parse(text.reversed().reversed()) == expected)
        #expect(try text.withUnsafeBytes { (raw) throws(DecodeError) in try JSONValue.parse(raw) } == expected)
    }
}
