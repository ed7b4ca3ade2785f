// JSONWriter: compact output with automatic separators, correct string escaping, integers exactly and Doubles in
// the shortest form that reads back to the same bits.

import SplitMix
import Testing

@testable import Telemetry

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("containers, keys and separators")
    func structure() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.beginArray()
        writer.value(1)
        writer.value("two")
        writer.value(true)
        writer.null()
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.endArray()
        writer.key("b")
        writer.value(false)
        writer.endObject()
        #expect(writer.bytes.text == #"{"a":[1,"two",true,null,{},[]],"b":false}"#)
    }

    @Test(
        "integers are written exactly",
        arguments: [
            (0, "0"), (7, "7"), (-7, "-7"), (10, "10"), (1_732_190_000_123, "1732190000123"),
            (Int64.max, "9223372036854775807"), (Int64.min, "-9223372036854775808"),
        ] as [(Int64, String)])
    func int64(_ value: Int64, _ text: String) {
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.bytes.text == text)
    }

    @Test(
        "unsigned integers are written exactly",
        arguments: [(0, "0"), (UInt64.max, "18446744073709551615")] as [(UInt64, String)])
    func uint64(_ value: UInt64, _ text: String) {
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.bytes.text == text)
    }

    @Test(
        "Doubles are written in their shortest round-trip form",
        arguments: [
            (21.54, "21.54"), (1013.2, "1013.2"), (-3.917, "-3.917"), (0.1, "0.1"), (0.0, "0.0"), (-0.0, "-0.0"),
            (21.0, "21.0"), (1e16, "1e+16"), (1e-5, "1e-05"), (0.30000000000000004, "0.30000000000000004"),
            (.leastNonzeroMagnitude, "5e-324"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        ] as [(Double, String)])
    func double(_ value: Double, _ text: String) throws {
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.bytes.text == text)
        #expect(try JSONValue.parse(writer.bytes).doubleValue?.bitPattern == value.bitPattern)
    }

    @Test("JSON has no infinity or NaN: they are written as null", arguments: [Double.infinity, -.infinity, .nan])
    func nonFinite(_ value: Double) {
        var writer = JSONWriter()
        writer.beginArray()
        writer.value(value)
        writer.value(1)
        writer.endArray()
        #expect(writer.bytes.text == "[null,1]")
    }

    @Test("random finite Doubles read back to the same bits", arguments: [11, 12] as [UInt64])
    func randomDoubles(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var values: [Double] = []
        while values.count < 20_000 {
            let value =
                values.count.isMultiple(of: 2)
                ? Double(bitPattern: random.next())  // every binade, subnormals, both signs
                : Double(Int.random(in: -100_000...100_000, using: &random)) / 100  // sensor-like decimals
            if value.isFinite { values.append(value) }
        }
        var writer = JSONWriter()
        writer.beginArray()
        for value in values { writer.value(value) }
        writer.endArray()
        let parsed = try #require(try JSONValue.parse(writer.bytes).arrayValue)
        #expect(parsed.count == values.count)
        for (value, element) in zip(values, parsed) where element.doubleValue?.bitPattern != value.bitPattern {
            Issue.record("\(value) was written as \(element)")
            return
        }
    }

    @Test(
        "strings: quote, backslash and control characters are escaped; everything else is copied as UTF-8",
        arguments: [
            ("plain", #""plain""#),
            ("", #""""#),
            ("say \"hi\"", #""say \"hi\"""#),
            (#"back\slash"#, #""back\\slash""#),
            ("a/b", #""a/b""#),
            ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
            ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
            ("\u{7F}é€😀\u{2028}", "\"\u{7F}é€😀\u{2028}\""),
        ] as [(String, String)])
    func string(_ value: String, _ json: String) throws {
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.bytes.text == json)
        #expect(try JSONValue.parse(writer.bytes) == .string(value))
    }

    @Test("keys are escaped like strings")
    func escapedKey() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a\"b")
        writer.value(1)
        writer.endObject()
        #expect(writer.bytes.text == #"{"a\"b":1}"#)
    }

    @Test("a parsed JSONValue is written back to an equal value, number literals unchanged")
    func jsonValueRoundTrip() throws {
        let text = #" {"n": [0, -0, 1.50, 1E+3, -2e-7], "s": "x\u00e9\n", "t": true, "o": {"z": null, "a": []}} "#
        let value = try JSONValue.parse(Array(text.utf8))
        var writer = JSONWriter()
        writer.value(value)
        #expect(writer.bytes.text == #"{"n":[0,-0,1.50,1E+3,-2e-7],"s":"xé\n","t":true,"o":{"z":null,"a":[]}}"#)
        #expect(try JSONValue.parse(writer.bytes) == value)
    }
}
