// Batch and Ack in protobuf's canonical proto3 JSON mapping (the Connect protocol's application/json): the form
// written, everything the mapping lets a client send, and the same result, limits and rules as the protobuf
// decoder for the same message.

import SplitMix
import Testing

@testable import Telemetry

/// The error `body` throws, or nil.
private func protoJSONError(_ text: String, limits: DecodeLimits = .standard) -> DecodeError? {
    do {
        _ = try Batch(protoJSON: Array(text.utf8), limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The error the protobuf decoder throws for `batch`'s bytes, or nil.
private func protobufError(_ batch: Batch, limits: DecodeLimits = .standard) -> DecodeError? {
    do {
        _ = try Batch(protobuf: batch.protobufBytes(), limits: limits)
        return nil
    } catch {
        return error
    }
}

@Suite("Batch proto3 JSON")
struct BatchProtoJSONTests {
    // MARK: The canonical form

    @Test("canonical form: lowerCamelCase in field order, 64-bit as strings, defaults left out")
    func canonicalForm() {
        let batch = Batch(
            seq: 7,
            series: [
                Series(
                    sensor: "temperature", exponent: -2, startMs: 1_732_190_000_000, intervalMs: 1000,
                    mantissaDeltas: [2154, 1, -2]),
                Series(
                    sensor: "door", exponent: 0, startMs: 0, intervalMs: 0, mantissaDeltas: [1, -1],
                    timeDeltasMs: [4000]),
            ])
        let expected =
            #"{"seq":"7","series":[{"sensor":"temperature","exponent":-2,"startMs":"1732190000000","#
            + #""intervalMs":1000,"mantissaDeltas":["2154","1","-2"]},"#
            + #"{"sensor":"door","mantissaDeltas":["1","-1"],"timeDeltasMs":[4000]}]}"#
        #expect(batch.protoJSONBytes().text == expected)
        #expect(Batch(seq: 0, series: []).protoJSONBytes().text == "{}")
    }

    @Test("packed deltas travel as standard padded base64, split as in the protobuf encoding")
    func packedForm() throws {
        let deltas: [Int64] = [100_000] + Array(repeating: 1, count: 20)
        let batch = Batch(
            seq: 1,
            series: [
                Series(sensor: "t", exponent: 0, startMs: 5, intervalMs: 1, mantissaDeltas: deltas)
            ])
        let text = batch.protoJSONBytes(packingDeltas: true).text
        // The first delta as a varint, the 20 others at 2 bits: n = 20, w = 2, then 5 bytes of 0b10 pairs.
        let run: [UInt8] = [20, 2, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]
        let base64 = String(decoding: ProtoJSONBase64.encode(run), as: UTF8.self)
        #expect(base64 == "FAKqqqqqqg==")
        #expect(
            text == #"{"seq":"1","series":[{"sensor":"t","startMs":"5","intervalMs":1,"#
                + #""mantissaDeltas":["100000"],"packedDeltas":"\#(base64)"}]}"#)
        #expect(try Batch(protoJSON: Array(text.utf8)) == batch)
    }

    @Test("Acks: canonical form and back, either spelling")
    func acks() throws {
        let ack = Ack(batches: 1, readings: 6, duplicateBatches: 0, lastSeq: 7)
        #expect(ack.protoJSONBytes().text == #"{"batches":"1","readings":"6","lastSeq":"7"}"#)
        #expect(Ack().protoJSONBytes().text == "{}")
        #expect(try Ack(protoJSON: ack.protoJSONBytes()) == ack)
        let extreme = Ack(batches: .max, readings: 0, duplicateBatches: 3, lastSeq: 1 << 63)
        #expect(try Ack(protoJSON: extreme.protoJSONBytes()) == extreme)
        let loose = #"{"batches":1,"readings":"6","duplicate_batches":null,"last_seq":7e0}"#
        #expect(try Ack(protoJSON: Array(loose.utf8)) == ack)
    }

    @Test(
        "Ack errors name the field",
        arguments: [
            (#"{"batches":1,"colour":2}"#, "colour: unknown field (at byte 13)"),
            (#"{"lastSeq":1,"last_seq":2}"#, "last_seq: field given more than once (at byte 13)"),
            (#"{"readings":-1}"#, "readings: number out of range (at byte 12)"),
            (#"{"readings":[]}"#, "readings: expected a uint64 (number or string), got an array (at byte 12)"),
            ("[]", "expected an object (an Ack), got an array (at byte 0)"),
        ])
    func ackErrors(text: String, message: String) {
        #expect(throws: DecodeError.self) { try Ack(protoJSON: Array(text.utf8)) }
        do {
            _ = try Ack(protoJSON: Array(text.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    // MARK: Round trips against the protobuf codec

    @Test("random batches: JSON decodes to what the protobuf bytes decode to", arguments: [1, 2, 3] as [UInt64])
    func roundTripAgainstProtobuf(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        for _ in 0..<300 {
            let batch = RandomBatches.batch(&rng)
            for packing in [false, true] {
                let fromProtobuf = try Batch(protobuf: batch.protobufBytes(packingDeltas: packing))
                let json = batch.protoJSONBytes(packingDeltas: packing)
                #expect(try Batch(protoJSON: json) == fromProtobuf)
                #expect(try Batch(protoJSON: json[...]) == batch)
                #expect(try ReadingBatch(Batch(protoJSON: json)) == ReadingBatch(fromProtobuf))
            }
        }
    }

    @Test("extreme values survive")
    func extremes() throws {
        let series = Series(
            sensor: String(repeating: "z", count: 64), exponent: -30, startMs: .min,
            intervalMs: 0, mantissaDeltas: [.max, .min + 1, 0], timeDeltasMs: [0, .max])
        let batch = Batch(seq: Batch.maxSeq, series: [series])
        #expect(try Batch(protoJSON: batch.protoJSONBytes()) == batch)
        #expect(try Batch(protoJSON: batch.protoJSONBytes()) == Batch(protobuf: batch.protobufBytes()))
    }

    // MARK: What a client may send

    private static let reference = Batch(
        seq: 7,
        series: [
            Series(
                sensor: "temperature", exponent: -2, startMs: 1_732_190_000_000, intervalMs: 0,
                mantissaDeltas: [2154, 1, -2], timeDeltasMs: [1000, 1500])
        ])

    @Test(
        "either spelling, numbers or strings, exponents when whole, null as the default",
        arguments: [
            // The .proto names.
            #"{"seq":"7","series":[{"sensor":"temperature","exponent":-2,"start_ms":"1732190000000","#
                + #""mantissa_deltas":["2154","1","-2"],"time_deltas_ms":[1000,1500]}]}"#,
            // 64-bit as numbers, 32-bit as strings.
            #"{"seq":7,"series":[{"sensor":"temperature","exponent":"-2","startMs":1732190000000,"#
                + #""mantissaDeltas":[2154,1,-2],"timeDeltasMs":["1000","1500"]}]}"#,
            // Whole numbers with an exponent or a fraction, in numbers and in strings; -0 is 0.
            #"{"seq":0.7e1,"series":[{"sensor":"temperature","exponent":-2.0,"startMs":"1.73219e12","#
                + #""intervalMs":-0,"mantissaDeltas":["2154.000",1E0,-200e-2],"timeDeltasMs":[1e3,"15E2"]}]}"#,
            // null is the default; fields in any order; mixed spellings across fields; whitespace; an escaped key.
            #" { "series" : [ { "ref":null, "time_deltas_ms":[1000,1500], "packedDeltas":null, "exponent":-2, "#
                + #""sensor":"temperature", "st\u0061rtMs":"1732190000000", "mantissaDeltas":["2154","1","-2"] } ], "#
                + #""seq":"7" } "#,
            // Deltas split between the list and packedDeltas: [1, -2] packed at 2 bits (zigzag 2, 3), URL-safe
            // base64 without padding, and the standard alphabet with padding.
            #"{"seq":"7","series":[{"packed_deltas":"AgIO","sensor":"temperature","exponent":-2,"#
                + #""startMs":"1732190000000","mantissaDeltas":["2154"],"timeDeltasMs":[1000,1500]}]}"#,
        ])
    func accepted(text: String) throws {
        #expect(try Batch(protoJSON: Array(text.utf8)) == Self.reference)
    }

    @Test("base64 in either alphabet, with or without padding")
    func base64Forms() throws {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF, 0x00, 0x3E]
        for text in ["+/+/AD4=", "-_-_AD4", "+/+/AD4", "-_-_AD4="] {
            let decoded = try Array(text.utf8).withUnsafeBytes { try ProtoJSONBase64.decode($0) }
            #expect(decoded == bytes, "\(text)")
        }
        #expect(ProtoJSONBase64.encode(bytes) == Array("+/+/AD4=".utf8))
        #expect(ProtoJSONBase64.encode([]) == [])
    }

    @Test(
        "exact integer conversion",
        arguments: [
            ("0", ProtoJSONIntegerText.Parsed.value(isNegative: false, 0)),
            ("-0.0e-5", .value(isNegative: true, 0)),
            ("18446744073709551615", .value(isNegative: false, .max)),
            ("18446744073709551616", .tooLarge),
            ("1.8446744073709551615e19", .value(isNegative: false, .max)),
            ("1e20", .tooLarge),
            ("0e999999999999999999999", .value(isNegative: false, 0)),
            ("1e-999999999999999", .notIntegral),
            ("1.5", .notIntegral),
            ("150e-2", .notIntegral),
            ("150e-1", .value(isNegative: false, 15)),
            ("-9223372036854775808", .value(isNegative: true, 1 << 63)),
        ])
    func integers(text: String, parsed: ProtoJSONIntegerText.Parsed) {
        #expect(Array(text.utf8).withUnsafeBytes { ProtoJSONIntegerText.parse($0) } == parsed)
    }

    // MARK: Errors

    @Test(
        "errors name the field as sent, what it takes and what came",
        arguments: [
            (#"{"seq":"1","series":[{"sensor":"t","colour":"red"}]}"#, "series[0].colour: unknown field (at byte 35)"),
            (#"{"seq":"1","colour":"red"}"#, "colour: unknown field (at byte 11)"),
            (
                #"{"seq":"1","series":[{"sensor":"t","mantissaDeltas":["1"]},{"sensor":"u","startMs":[]}]}"#,
                "series[1].startMs: expected an int64 (number or string), got an array (at byte 83)"
            ),
            (
                #"{"seq":"1","series":[{"sensor":"t","start_ms":{}}]}"#,
                "series[0].start_ms: expected an int64 (number or string), got an object (at byte 46)"
            ),
            (#"{"seq":true}"#, "seq: expected a uint64 (number or string), got a boolean (at byte 7)"),
            (
                #"{"seq":"x1"}"#,
                "seq: expected a uint64 (number or string), got a string that is not a number (at byte 7)"
            ),
            (
                #"{"seq":" 1"}"#,
                "seq: expected a uint64 (number or string), got a string that is not a number (at byte 7)"
            ),
            (
                #"{"seq":1.5}"#,
                "seq: expected a uint64 (number or string), got a number with a fractional part (at byte 7)"
            ),
            (#"{"seq":"-1"}"#, "seq: number out of range (at byte 7)"),
            (#"{"seq":18446744073709551616}"#, "seq: number out of range (at byte 7)"),
            (#"{"seq":"9223372036854775808"}"#, "seq: value out of range for the field's type (at byte 29)"),
            (#"{"seq":0}"#, "seq: seq must be at least 1 (at byte 9)"),
            (#"{"series":[]}"#, "seq: seq must be at least 1 (at byte 13)"),
            (#"{"seq":1,"seq":2}"#, "seq: field given more than once (at byte 9)"),
            (
                #"{"seq":1,"series":[{"startMs":"1","start_ms":"1"}]}"#,
                "series[0].start_ms: field given more than once (at byte 34)"
            ),
            (#"{"seq":1,"series":{}}"#, "series: expected an array of Series, got an object (at byte 18)"),
            (#"{"seq":1,"series":[null]}"#, "series[0]: expected an object (a Series), got null (at byte 19)"),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissaDeltas":["1",null]}]}"#,
                "series[0].mantissaDeltas[1]: expected an sint64 (number or string), got null (at byte 55)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissaDeltas":"1"}]}"#,
                "series[0].mantissaDeltas: expected an array, got a string (at byte 50)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissaDeltas":["9223372036854775808"]}]}"#,
                "series[0].mantissaDeltas[0]: number out of range (at byte 51)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","intervalMs":4294967296}]}"#,
                "series[0].intervalMs: number out of range (at byte 46)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","exponent":-2147483649}]}"#,
                "series[0].exponent: number out of range (at byte 44)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","exponent":31}]}"#,
                "series[0].exponent: exponent must be within -30...30 (at byte 46)"
            ),
            (#"{"seq":1,"series":[{"sensor":7}]}"#, "series[0].sensor: expected a string, got a number (at byte 29)"),
            (
                #"{"seq":1,"series":[{"sensor":"Temp"}]}"#,
                "series[0].sensor: sensor name must match [a-z0-9_.-]{1,64} (at byte 29)"
            ),
            (
                #"{"seq":1,"series":[{"mantissaDeltas":["1"]}]}"#,
                "series[0].sensor: sensor name must match [a-z0-9_.-]{1,64} (at byte 42)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","ref":2}]}"#,
                "series[0].ref: stream context (a series without a sensor, ref, or seq 0) is only valid on Upload "
                    + "and Sync streams (at byte 40)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissaDeltas":["1","2","3"],"timeDeltasMs":[1]}]}"#,
                "series[0].timeDeltasMs: expected 2 time deltas (one fewer than readings), got 1 (at byte 82)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissaDeltas":["1","2","3"]}]}"#,
                "series[0].timeDeltasMs: expected 2 time deltas (one fewer than readings), got 0 (at byte 63)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","mantissa_deltas":["9223372036854775807","1"],"intervalMs":1}]}"#,
                "series[0].mantissa_deltas: mantissa deltas overflow a 64-bit integer (at byte 93)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","packedDeltas":"AgI*"}]}"#,
                "series[0].packedDeltas: expected base64 bytes, got '*' at character 3 (at byte 52)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","packedDeltas":"Ag-/"}]}"#,
                "series[0].packedDeltas: expected base64 bytes, got both the standard and the URL-safe alphabet "
                    + "(character 3) (at byte 52)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","packedDeltas":"AgI=="}]}"#,
                "series[0].packedDeltas: expected base64 bytes, got wrong padding (2 '=' for 5 characters) "
                    + "(at byte 52)"
            ),
            (
                #"{"seq":1,"series":[{"sensor":"t","packedDeltas":"AgIOA"}]}"#,
                "series[0].packedDeltas: expected base64 bytes, got a length that leaves one character in the last "
                    + "group (at byte 53)"
            ),
            (
                // n = 2 deltas of 2 bits need 1 byte; 2 came.
                #"{"seq":1,"series":[{"sensor":"t","packedDeltas":"AgIOAA"}]}"#,
                "series[0].packedDeltas: malformed packed deltas: 2 deltas of 2 bits take 1 bytes, got 2 (at byte 48)"
            ),
            ("[]", "expected an object (a Batch), got an array (at byte 0)"),
            (#"{"seq":1"#, "invalid JSON: unexpected end of input (at byte 8)"),
            (
                #"{"seq":1,"series":[{"sensor":"t"}]} x"#,
                "invalid JSON: unexpected data after the JSON value (at byte 36)"
            ),
            (#"{"seq":1,"series":[{"sensor":"t",}]}"#, "series[0]: invalid JSON: expected a string key (at byte 33)"),
        ])
    func errors(text: String, message: String) {
        #expect(protoJSONError(text)?.description == message)
    }

    @Test("every truncation of a body is refused, none traps")
    func truncations() throws {
        let batch = Batch(
            seq: 3,
            series: [
                Series(
                    sensor: "t", exponent: -1, startMs: 9, intervalMs: 0,
                    mantissaDeltas: [500] + Array(repeating: 1, count: 30), timeDeltasMs: Array(1...30))
            ])
        let json = batch.protoJSONBytes(packingDeltas: true)
        #expect(json.text.contains("packedDeltas"))
        for end in 0..<json.count {
            #expect(throws: DecodeError.self) { try Batch(protoJSON: json[..<end]) }
        }
        #expect(try Batch(protoJSON: json) == batch)
    }

    // MARK: Limits, as the protobuf decoder enforces them

    @Test("too many series")
    func tooManySeries() {
        let limits = DecodeLimits(maxSeriesPerBatch: 2)
        let series = Series(sensor: "t", exponent: 0, startMs: 1, intervalMs: 1, mantissaDeltas: [1])
        let batch = Batch(seq: 1, series: Array(repeating: series, count: 3))
        let error = protoJSONError(batch.protoJSONBytes().text, limits: limits)
        #expect(error?.reason == .tooManySeries(limit: 2))
        #expect(error?.reason == protobufError(batch, limits: limits)?.reason)
        #expect(error?.path == "series")
        #expect(protoJSONError(Batch(seq: 1, series: [series, series]).protoJSONBytes().text, limits: limits) == nil)
    }

    @Test("too many readings: in either list, or the list and the packed run together")
    func tooManyReadings() {
        let limits = DecodeLimits(maxReadingsPerSeries: 4)
        let five = Series(sensor: "t", exponent: 0, startMs: 1, intervalMs: 1, mantissaDeltas: [1, 1, 1, 1, 1])
        for packing in [false, true] {
            let batch = Batch(seq: 1, series: [five])
            let error = protoJSONError(batch.protoJSONBytes(packingDeltas: packing).text, limits: limits)
            #expect(error?.reason == .tooManyReadings(limit: 4))
            #expect(error?.reason == protobufError(batch, limits: limits)?.reason)
        }
        let timeDeltas = #"{"seq":1,"series":[{"sensor":"t","timeDeltasMs":[1,1,1,1,1]}]}"#
        #expect(
            protoJSONError(timeDeltas, limits: limits)?.description
                == "series[0].timeDeltasMs: more than 4 readings (at byte 57)")
        // 2 in the list, 3 packed (n = 3, w = 2: "AwIq").
        let split =
            #"{"seq":1,"series":[{"sensor":"t","intervalMs":1,"mantissaDeltas":["1","1"],"packedDeltas":"AwIq"}]}"#
        #expect(
            protoJSONError(split, limits: limits)?.description
                == "series[0].packedDeltas: more than 4 readings (at byte 96)")
        #expect(protoJSONError(split) == nil)
    }

    @Test("a body over the message limit is refused before it is read")
    func messageTooLarge() {
        let limits = DecodeLimits(maxMessageBytes: 9)
        #expect(protoJSONError(#"{"seq":"1"}"#, limits: limits)?.reason == .messageTooLarge(limit: 9))
        #expect(protoJSONError(#"{"seq":1}"#, limits: limits) == nil)
    }

    @Test(
        "the contract's rules give the protobuf decoder's reasons",
        arguments: [
            Series(sensor: "t", exponent: 31, startMs: 0, intervalMs: 1, mantissaDeltas: [1]),
            Series(sensor: "t", exponent: 0, startMs: 0, intervalMs: 1, mantissaDeltas: [1, 2], timeDeltasMs: [1]),
            Series(sensor: "t", exponent: 0, startMs: .max, intervalMs: 1, mantissaDeltas: [1, 2]),
            Series(sensor: "t", exponent: 0, startMs: .max, intervalMs: 0, mantissaDeltas: [1, 2], timeDeltasMs: [1]),
            Series(sensor: "t", exponent: 0, startMs: 0, intervalMs: 1, mantissaDeltas: [.max, 1]),
            Series(sensor: "", exponent: 0, startMs: 0, intervalMs: 1, mantissaDeltas: [1], ref: 1),
            Series(sensor: "t", exponent: 0, startMs: 0, intervalMs: 1, mantissaDeltas: [1], ref: 1),
            Series(sensor: "a/b", exponent: 0, startMs: 0, intervalMs: 1, mantissaDeltas: [1]),
        ])
    func sameRules(series: Series) {
        let batch = Batch(seq: 1, series: [series])
        let fromJSON = protoJSONError(batch.protoJSONBytes().text)
        let fromProtobuf = protobufError(batch)
        #expect(fromJSON != nil)
        #expect(fromJSON?.reason == fromProtobuf?.reason)
    }
}

/// Our proto3 JSON against an independent implementation, Python protobuf's `json_format` over stubs protoc
/// generates from the contract: it reads our JSON to the message our protobuf bytes hold, and writes for that
/// message exactly our canonical JSON (compacted), which we read back to the batch. `make test` installs protoc
/// and python3-protobuf; without them this test fails rather than skips.
@Suite("Batch proto3 JSON against Python protobuf")
struct BatchProtoJSONPythonCrossCheckTests {
    private static let script = #"""
        import base64, json, subprocess, sys, tempfile
        schema, lines = sys.argv[1], sys.argv[2]
        out = tempfile.mkdtemp()
        subprocess.run(["protoc", "--proto_path=" + schema, "--python_out=" + out, "telemetry/v1/telemetry.proto"],
                       check=True)
        sys.path.insert(0, out)
        from google.protobuf import json_format
        from telemetry.v1 import telemetry_pb2
        for line in open(lines):
            kind, text, wire = line.rstrip("\n").split("\t")
            message = getattr(telemetry_pb2, kind)()
            message.ParseFromString(bytes.fromhex(wire))
            parsed = json_format.Parse(text, getattr(telemetry_pb2, kind)())
            assert parsed == message, (text, message)
            print(json.dumps(json_format.MessageToDict(message), separators=(",", ":")))
        """#

    @Test func pythonReadsAndWritesWhatWeDo() throws {
        var rng = SplitMix64(seed: 77)
        let batches = (0..<200).map { _ in RandomBatches.batch(&rng) }
        let acks = [
            Ack(), Ack(batches: 1, readings: 6, duplicateBatches: 0, lastSeq: 7),
            Ack(batches: .max, readings: 1 << 53 + 1, duplicateBatches: 2, lastSeq: 1 << 63),
        ]
        var lines: [[UInt8]] = []
        var expected: [[UInt8]] = []
        for (index, batch) in batches.enumerated() {
            let packing = index % 2 == 1
            let json = batch.protoJSONBytes(packingDeltas: packing)
            lines.append(
                Array("Batch\t".utf8) + json + Array("\t\(hex(batch.protobufBytes(packingDeltas: packing)))".utf8))
            expected.append(json)
        }
        for ack in acks {
            lines.append(Array("Ack\t".utf8) + ack.protoJSONBytes() + Array("\t\(hex(ack.protobufBytes()))".utf8))
            expected.append(ack.protoJSONBytes())
        }
        let output = try Python.withInputFile(lines) { path in
            try Python.run(Self.script, arguments: [Repo.schema.path, path])
        }
        let written = output.split(separator: "\n").map { Array($0.utf8) }
        #expect(written.count == expected.count)
        for (index, (theirs, ours)) in zip(written, expected).enumerated() {
            #expect(theirs.text == ours.text, "line \(index)")
            if index < batches.count { #expect(try Batch(protoJSON: theirs) == batches[index]) }
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }
}
