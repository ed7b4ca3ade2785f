// A cross-check with an independent JSON implementation, Python's `json` module: it must read our `jsonBytes()` to
// the same values, and we must read its `json.dumps` output to the same values. Values are compared as the bit
// patterns of their Doubles. `make test` guarantees python3; without it these tests fail rather than skip.

import Foundation
import SplitMix
import Testing

@testable import Telemetry

/// Runs Python scripts for the cross-checks.
enum Python {

    /// Runs `script` with `arguments` and returns its standard output; throws when it fails.
    static func run(_ script: String, arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PythonFailed(status: process.terminationStatus) }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `lines` to a temporary file for a script to read, runs `body` with its path and removes it.
    static func withInputFile<Result>(_ lines: [[UInt8]], _ body: (String) throws -> Result) throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fleetwire-json-\(UUID()).txt").path
        var data = Data()
        for line in lines {
            data.append(contentsOf: line)
            data.append(0x0A)
        }
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    struct PythonFailed: Error {
        let status: Int32
    }
}

/// Lowercase hex of `bytes`.
private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

/// Bytes from lowercase hex.
private func bytes(hex: Substring) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

@Suite("JSON cross-check with Python's json module")
struct JSONPythonCrossCheckTests {
    @Test("Python reads our jsonBytes() to the same seq, sensors, timestamps and value bits")
    func pythonReadsOurs() throws {
        var random = SplitMix64(seed: 99)
        let batches = (0..<6).map { _ in JSONReadingBatchRoundTripTests.randomBatch(using: &random) }
        let script = """
            import json, struct, sys
            for line in open(sys.argv[1], encoding="utf-8"):
                body = json.loads(line)
                assert sorted(body) == ["readings", "seq"], sorted(body)
                print("B", body["seq"])
                for r in body["readings"]:
                    assert sorted(r) == ["sensor", "ts", "value"], sorted(r)
                    assert type(r["ts"]) is int and type(r["value"]) is float, r
                    print("R", r["sensor"], r["ts"], struct.unpack("<Q", struct.pack("<d", r["value"]))[0])
            """
        let output = try Python.withInputFile(batches.map { $0.jsonBytes() }) { path in
            try Python.run(script, arguments: [path])
        }
        var expected = ""
        for batch in batches {
            expected += "B \(batch.seq)\n"
            for reading in batch.readings {
                expected += "R \(reading.sensor) \(reading.ts) \(reading.value.bitPattern)\n"
            }
        }
        #expect(output == expected)
    }

    @Test("we read Python's json.dumps of Python-generated batches to the same values")
    func weReadPythons() throws {
        // Python builds batches (keys in random order, floats of every kind, integers as values, three layouts of
        // json.dumps) and prints each body in hex, then its readings grouped by sensor in order of first appearance.
        let script = """
            import json, random, struct, sys
            rng = random.Random(int(sys.argv[1]))
            names = ["temperature", "humidity", "pressure.hpa", "co2_ppm", "battery-v", "x", "door.0"]
            def value():
                kind = rng.randrange(7)
                if kind == 0: return round(rng.uniform(-100, 100), rng.randint(0, 4))
                if kind == 1: return float(rng.randint(-2**53, 2**53))
                if kind == 2: return rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308])
                if kind == 3:
                    while True:
                        v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
                        if v == v and abs(v) != float("inf"): return v
                if kind == 4: return rng.randint(-10**6, 10**6)
                if kind == 5: return round(rng.uniform(900, 1100), 1)
                return rng.random() * 10 ** rng.randint(-30, 30)
            for _ in range(int(sys.argv[2])):
                readings = []
                for _ in range(rng.randint(0, 60)):
                    fields = [("sensor", rng.choice(names)), ("ts", rng.randint(-2**63, 2**63 - 1)), ("value", value())]
                    rng.shuffle(fields)
                    readings.append(dict(fields))
                body = {"seq": rng.randint(1, 2**63 - 1), "readings": readings}
                if rng.random() < 0.5: body = {"readings": readings, "seq": body["seq"]}
                style = rng.randrange(3)
                if style == 0: text = json.dumps(body)
                elif style == 1: text = json.dumps(body, separators=(",", ":"))
                else: text = json.dumps(body, indent=rng.randint(0, 3))
                print("BODY", text.encode().hex())
                print("SEQ", body["seq"])
                groups = {}
                for r in readings:
                    groups.setdefault(r["sensor"], []).append((r["ts"], float(r["value"])))
                for sensor, rs in groups.items():
                    print("S", sensor)
                    for ts, v in rs:
                        print("R", ts, struct.unpack("<Q", struct.pack("<d", v))[0])
                print("END")
            """
        let output = try Python.run(script, arguments: ["7", "40"])
        var batchCount = 0
        var body: [UInt8] = []
        var seq: UInt64 = 0
        var sensors: [SensorReadings] = []
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            switch fields[0] {
            case "BODY":
                body = bytes(hex: fields[1])
                sensors = []
            case "SEQ": seq = UInt64(fields[1])!
            case "S":
                sensors.append(SensorReadings(sensor: String(fields[1]), exponent: nil, timestamps: [], values: []))
            case "R":
                sensors[sensors.count - 1].timestamps.append(Int64(fields[1])!)
                sensors[sensors.count - 1].values.append(Double(bitPattern: UInt64(fields[2])!))
            default:
                let decoded = try ReadingBatch(json: body)
                #expect(decoded == ReadingBatch(seq: seq, sensors: sensors), "\(body.text)")
                #expect(
                    decoded.sensors.map { $0.values.map(\.bitPattern) } == sensors.map { $0.values.map(\.bitPattern) })
                batchCount += 1
            }
        }
        #expect(batchCount == 40)
    }

    @Test("strings: Python reads what JSONWriter escapes, and JSONValue reads what Python escapes")
    func strings() throws {
        var random = SplitMix64(seed: 5)
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "\"", "\\", "/", "\u{0}", "\u{1F}", "\n", "\t", "\u{7F}", "é", "€",
            "\u{2028}", "\u{FFFF}", "😀", "\u{10FFFF}", " ",
        ]
        let strings = (0..<200).map { _ in
            String(
                String.UnicodeScalarView(
                    (0..<Int.random(in: 0...12, using: &random)).map { _ in
                        alphabet.randomElement(using: &random)!
                    }))
        }
        // Ours → Python: each line is one JSON string; Python prints its UTF-8 in hex.
        let written = strings.map { string in
            var writer = JSONWriter()
            writer.value(string)
            return writer.bytes
        }
        let script = """
            import json, sys
            for line in open(sys.argv[1], encoding="utf-8"):
                print(json.loads(line).encode("utf-8", "surrogatepass").hex())
            """
        let pythonRead = try Python.withInputFile(written) { path in try Python.run(script, arguments: [path]) }
        #expect(
            pythonRead.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { bytes(hex: $0) }
                == strings.map { Array($0.utf8) })
        // Python → ours: json.dumps with ASCII escapes (surrogate pairs for astral characters) and without.
        let dumpScript = """
            import json, sys
            for line in open(sys.argv[1], encoding="utf-8"):
                s = bytes.fromhex(line.strip()).decode("utf-8")
                print(json.dumps(s, ensure_ascii=True).encode().hex(), json.dumps(s, ensure_ascii=False).encode().hex())
            """
        let hexLines = strings.map { Array(hex(Array($0.utf8)).utf8) }
        let dumped = try Python.withInputFile(hexLines) { path in try Python.run(dumpScript, arguments: [path]) }
        let lines = dumped.split(separator: "\n")
        #expect(lines.count == strings.count)
        for (line, string) in zip(lines, strings) {
            for json in line.split(separator: " ") {
                #expect(try JSONValue.parse(bytes(hex: json)) == .string(string))
            }
        }
    }
}
