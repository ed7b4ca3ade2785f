// The REST ingest body as a specification: what is accepted and how it is grouped, and for every way a body can be
// wrong, the exact reason, the path in the contract's spelling and the byte offset (`‸` marks it in the tables).

import SplitMix
import Testing

@testable import Telemetry

/// Decoding `bytes` as a ReadingBatch, the error it throws (nil when it decodes).
func batchError(_ bytes: [UInt8], limits: DecodeLimits = .standard) -> DecodeError? {
    do {
        _ = try ReadingBatch(json: bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

@Suite("REST batch JSON: decoding")
struct JSONReadingBatchTests {
    @Test("the contract's example decodes, readings grouped by sensor in order of first appearance")
    func example() throws {
        let body = """
            {"seq": 17, "readings": [
              {"sensor": "temperature", "ts": 1732190000123, "value": 21.54},
              {"sensor": "humidity", "ts": 1732190000123, "value": 40},
              {"sensor": "temperature", "ts": 1732190001123, "value": -0.5e1},
              {"sensor": "pressure.hpa", "ts": -1, "value": 1013.2},
              {"sensor": "humidity", "ts": 1732190001123, "value": 41.25}
            ]}
            """
        let batch = try ReadingBatch(json: Array(body.utf8))
        #expect(
            batch
                == ReadingBatch(
                    seq: 17,
                    sensors: [
                        SensorReadings(
                            sensor: "temperature", exponent: nil, timestamps: [1_732_190_000_123, 1_732_190_001_123],
                            values: [21.54, -5]),
                        SensorReadings(
                            sensor: "humidity", exponent: nil, timestamps: [1_732_190_000_123, 1_732_190_001_123],
                            values: [40, 41.25]),
                        SensorReadings(sensor: "pressure.hpa", exponent: nil, timestamps: [-1], values: [1013.2]),
                    ]))
    }

    @Test(
        "bodies the contract accepts",
        arguments: [
            (#"{"seq":1,"readings":[]}"#, 1, 0),
            (#" {"readings": [], "seq": 9223372036854775807} "# + "\n\t\r ", Batch.maxSeq, 0),
            (#"{"s\u0065q": 2, "readings": [{"value": 1, "ts": 2, "sensor": "t\u0065mp"}]}"#, 2, 1),
            (#"{"seq":3,"readings":[{"sensor":"a","ts":-9223372036854775808,"value":-0}]}"#, 3, 1),
            (#"{"seq":3,"readings":[{"sensor":"a","ts":9223372036854775807,"value":1E-400}]}"#, 3, 1),
            (#"{"seq":4,"readings":[{"sensor":"\#(String(repeating: "x", count: 64))","ts":0,"value":0}]}"#, 4, 1),
            (#"{"seq":5,"readings":[{"sensor":"a-b_c.d-0123456789","ts":0,"value":1.7976931348623157e308}]}"#, 5, 1),
        ] as [(String, UInt64, Int)])
    func accepts(_ body: String, _ seq: UInt64, _ readings: Int) throws {
        let batch = try ReadingBatch(json: Array(body.utf8))
        #expect(batch.seq == seq)
        #expect(batch.readingCount == readings)
        #expect(batch.sensors.allSatisfy { $0.exponent == nil })
    }

    @Test(
        "every way a body can be wrong: reason, path and offset",
        arguments: [
            // The message.
            ("‸", "", .syntax("unexpected end of input")),
            ("‸[]", "", .expected("object")),
            ("‸\"seq\"", "", .expected("object")),
            ("{‸}", "seq", .missingField),
            (#"{"seq": 1‸}"#, "readings", .missingField),
            (#"{"readings": []‸}"#, "seq", .missingField),
            (#"{"seq": 1, ‸"seq": 2, "readings": []}"#, "seq", .duplicateField),
            (#"{"seq": 1, "readings": [], ‸"readings": []}"#, "readings", .duplicateField),
            (#"{"seq": 1, "readings": [], ‸"device": "d1"}"#, "device", .unknownField),
            (#"{‸"Seq": 1, "readings": []}"#, "Seq", .unknownField),
            (#"{"seq": 1, "readings": []}‸x"#, "", .syntax("unexpected data after the JSON value")),
            (#"{"seq": 1, "readings": []}‸{}"#, "", .syntax("unexpected data after the JSON value")),
            (#"{"seq": 1, "readings": [],‸}"#, "", .syntax("expected a string key")),
            (#"{"seq": 1 ‸"readings": []}"#, "", .syntax("expected ',' or '}'")),
            // seq.
            (#"{"seq": ‸"17", "readings": []}"#, "seq", .expected("integer")),
            (#"{"seq": ‸1.0, "readings": []}"#, "seq", .expected("integer")),
            (#"{"seq": ‸1e3, "readings": []}"#, "seq", .expected("integer")),
            (#"{"seq": ‸null, "readings": []}"#, "seq", .expected("integer")),
            (#"{"seq": ‸-1, "readings": []}"#, "seq", .seqMustBePositive),
            (#"{"seq": ‸0, "readings": []}"#, "seq", .seqMustBePositive),
            (#"{"seq": ‸-0, "readings": []}"#, "seq", .seqMustBePositive),
            (#"{"seq": ‸18446744073709551616, "readings": []}"#, "seq", .numberOutOfRange),
            (#"{"seq": ‸9223372036854775808, "readings": []}"#, "seq", .numberOutOfRange),
            (#"{"seq": ‸+1, "readings": []}"#, "seq", .syntax("expected a value")),
            (#"{"seq": ‸01, "readings": []}"#, "seq", .syntax("leading zeros are not allowed")),
            // readings.
            (#"{"seq": 1, "readings": ‸{}}"#, "readings", .expected("array")),
            (#"{"seq": 1, "readings": ‸null}"#, "readings", .expected("array")),
            (#"{"seq": 1, "readings": [‸1]}"#, "readings[0]", .expected("object")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1},‸null]}"#, "readings[1]", .expected("object")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1},‸]}"#, "readings[1]", .syntax("expected a value")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1}‸}"#, "readings", .syntax("expected ',' or ']'")),
            // A reading's fields.
            (#"{"seq":1,"readings":[{"ts":1,"value":1‸}]}"#, "readings[0].sensor", .missingField),
            (#"{"seq":1,"readings":[{"sensor":"t","value":1‸}]}"#, "readings[0].ts", .missingField),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1‸}]}"#, "readings[0].value", .missingField),
            (#"{"seq":1,"readings":[{‸}]}"#, "readings[0].sensor", .missingField),
            (
                #"{"seq":1,"readings":[{"sensor":"t",‸"sensor":"u","ts":1,"value":1}]}"#, "readings[0].sensor",
                .duplicateField
            ),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,‸"ts":2,"value":1}]}"#, "readings[0].ts", .duplicateField),
            (
                #"{"seq":1,"readings":[{"value":1,"sensor":"t",‸"value":1,"ts":1}]}"#, "readings[0].value",
                .duplicateField
            ),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1,‸"unit":"C"}]}"#, "readings[0].unit", .unknownField),
            (#"{"seq":1,"readings":[{"sensor":‸5,"ts":1,"value":1}]}"#, "readings[0].sensor", .expected("string")),
            (#"{"seq":1,"readings":[{"sensor":‸"","ts":1,"value":1}]}"#, "readings[0].sensor", .invalidSensorName),
            (#"{"seq":1,"readings":[{"sensor":‸"Temp","ts":1,"value":1}]}"#, "readings[0].sensor", .invalidSensorName),
            (#"{"seq":1,"readings":[{"sensor":‸"a b","ts":1,"value":1}]}"#, "readings[0].sensor", .invalidSensorName),
            (
                #"{"seq":1,"readings":[{"sensor":‸"t\u00e9","ts":1,"value":1}]}"#, "readings[0].sensor",
                .invalidSensorName
            ),
            (#"{"seq":1,"readings":[{"sensor":‸"a/b","ts":1,"value":1}]}"#, "readings[0].sensor", .invalidSensorName),
            (
                #"{"seq":1,"readings":[{"sensor":‸"\#(String(repeating: "x", count: 65))","ts":1,"value":1}]}"#,
                "readings[0].sensor", .invalidSensorName
            ),
            (#"{"seq":1,"readings":[{"sensor":"t‸"#, "readings[0].sensor", .syntax("unexpected end of input")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":‸"1","value":1}]}"#, "readings[0].ts", .expected("integer")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":‸1.5,"value":1}]}"#, "readings[0].ts", .expected("integer")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":‸1e3,"value":1}]}"#, "readings[0].ts", .expected("integer")),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":‸9223372036854775808,"value":1}]}"#, "readings[0].ts",
                .numberOutOfRange
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":‸-9223372036854775809,"value":1}]}"#, "readings[0].ts",
                .numberOutOfRange
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":‸01,"value":1}]}"#, "readings[0].ts",
                .syntax("leading zeros are not allowed")
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸"21.5"}]}"#, "readings[0].value",
                .expected("number")
            ),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸null}]}"#, "readings[0].value", .expected("number")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸true}]}"#, "readings[0].value", .expected("number")),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸1e400}]}"#, "readings[0].value", .numberOutOfRange),
            (#"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸-1e309}]}"#, "readings[0].value", .numberOutOfRange),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸NaN}]}"#, "readings[0].value",
                .syntax("expected a value")
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":‸.5}]}"#, "readings[0].value",
                .syntax("expected a value")
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1.‸}]}"#, "readings[0].value",
                .syntax("expected a digit")
            ),
            (
                #"{"seq":1,"readings":[{"sensor":"t","ts":1 ‸"value":1}]}"#, "readings[0]",
                .syntax("expected ',' or '}'")
            ),
        ] as [(String, String, DecodeError.Reason)])
    func refuses(_ input: String, _ path: String, _ reason: DecodeError.Reason) {
        let marked = Marked(input)
        #expect(batchError(marked.bytes) == DecodeError(reason, path: path, offset: marked.offset), "\(marked)")
    }

    @Test("invalid UTF-8 in a sensor name is a syntax error at the offending byte")
    func invalidUTF8() {
        let body =
            Array(#"{"seq":1,"readings":[{"sensor":"t"#.utf8) + [0xC0, 0xAF] + Array(#"","ts":1,"value":1}]}"#.utf8)
        #expect(batchError(body) == DecodeError(.syntax("invalid UTF-8"), path: "readings[0].sensor", offset: 33))
    }

    @Test("the error's description names path, problem and byte, as the contract shows")
    func description() {
        let marked = Marked(
            #"{"seq":17,"readings":[{"sensor":"t","ts":1,"value":1},{"sensor":"t","ts":2,"value":2},"#
                + #"{"sensor":"t","ts":3,"value":3},{"sensor":"t","ts":‸4.5,"value":4}]}"#)
        #expect(batchError(marked.bytes)?.description == "readings[3].ts: expected integer (at byte \(marked.offset))")
    }

    @Test("the first problem in document order is the one reported")
    func documentOrder() {
        let marked = Marked(#"{"readings": [{"sensor": ‸"BAD", "ts": 1.5, "value": 1}], "seq": 0}"#)
        #expect(
            batchError(marked.bytes)
                == DecodeError(.invalidSensorName, path: "readings[0].sensor", offset: marked.offset))
    }

    // MARK: Limits

    @Test("a body longer than maxMessageBytes is refused before it is read")
    func messageTooLarge() {
        let limits = DecodeLimits(maxMessageBytes: 10)
        let garbage = Array("not json at all".utf8)
        #expect(batchError(garbage, limits: limits) == DecodeError(.messageTooLarge(limit: 10), offset: 10))
        let fits = Array(#"{"seq":1}"#.utf8)  // 9 bytes: read, and found incomplete
        #expect(batchError(fits, limits: limits)?.reason == .missingField)
    }

    @Test("more than maxReadingsPerSeries readings are refused as soon as the count passes the limit")
    func tooManyReadings() throws {
        let limits = DecodeLimits(maxReadingsPerSeries: 2)
        let two = #"{"seq":1,"readings":[{"sensor":"a","ts":1,"value":1},{"sensor":"b","ts":1,"value":1}"#
        #expect(try ReadingBatch(json: Array((two + "]}").utf8), limits: limits).readingCount == 2)
        // The third element is not even looked at: the limit is reached before it is read.
        let marked = Marked(two + ", ‸this is not JSON")
        #expect(
            batchError(marked.bytes, limits: limits)
                == DecodeError(.tooManyReadings(limit: 2), path: "readings", offset: marked.offset))
    }

    // MARK: Grouping

    @Test("many sensors interleaved: groups in order of first appearance, readings in arrival order")
    func grouping() throws {
        var random = SplitMix64(seed: 42)
        var readings: [Reading] = []
        for i in 0..<2_000 {
            let sensor = "s\(Int.random(in: 0..<(i < 1_000 ? 5 : 60), using: &random))"  // few sensors, then many
            readings.append(Reading(sensor: sensor, ts: Int64(i), value: Double(i) / 4))
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("seq")
        writer.value(9)
        writer.key("readings")
        writer.beginArray()
        for reading in readings {
            writer.beginObject()
            writer.key("ts")
            writer.value(reading.ts)
            writer.key("value")
            writer.value(reading.value)
            writer.key("sensor")
            writer.value(reading.sensor)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()

        var expected: [SensorReadings] = []
        for reading in readings {
            if let i = expected.firstIndex(where: { $0.sensor == reading.sensor }) {
                expected[i].timestamps.append(reading.ts)
                expected[i].values.append(reading.value)
            } else {
                expected.append(
                    SensorReadings(
                        sensor: reading.sensor, exponent: nil, timestamps: [reading.ts], values: [reading.value]))
            }
        }
        #expect(try ReadingBatch(json: writer.bytes) == ReadingBatch(seq: 9, sensors: expected))
    }
}
