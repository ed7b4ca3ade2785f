import Foundation
import SplitMix
import Testing
import Telemetry

/// Our codec against protoc, an independent implementation: our bytes decode in protoc to the same values, and
/// protoc's bytes decode in ours to the same values (and equal our own encoding byte for byte).
/// `make test` installs protoc; a missing protoc fails these tests instead of skipping them.
@Suite struct ProtocCrossCheckTests {
    @Test func protocDecodesOurBatches() throws {
        var rng = SplitMix64(seed: 41)
        let batches = (0..<300).map { _ in RandomBatches.batch(&rng) }
        var list: [UInt8] = []
        for batch in batches {
            let bytes = batch.protobufBytes()
            list += Wire.tag(1, 2) + Wire.varint(UInt64(bytes.count)) + bytes
        }
        let text = try Protoc.run(["--decode=fixtures.BatchList", "batch_list.proto"], input: list)
        let decoded = try TextFormat.batches(String(decoding: text, as: UTF8.self))
        #expect(decoded.count == batches.count)
        for (ours, theirs) in zip(batches, decoded) { #expect(ours == theirs) }
    }

    @Test func weDecodeProtocBatchesToTheSameValuesAndBytes() throws {
        var rng = SplitMix64(seed: 42)
        let batches = (0..<300).map { _ in RandomBatches.batch(&rng) }
        let text = batches.map { "batches {\n\(TextFormat.text(of: $0))}\n" }.joined()
        let encoded = try Protoc.run(["--encode=fixtures.BatchList", "batch_list.proto"], input: Array(text.utf8))
        // Walk the BatchList ourselves: each entry is field 1, length-delimited.
        var position = 0
        var index = 0
        while position < encoded.count {
            #expect(encoded[position] == 0x0A)
            var length = 0
            var shift = 0
            position += 1
            while true {
                let byte = encoded[position]
                position += 1
                length |= Int(byte & 0x7F) << shift
                shift += 7
                if byte < 0x80 { break }
            }
            let slice = encoded[position..<(position + length)]
            #expect(try Batch(protobuf: slice) == batches[index])
            #expect(Array(slice) == batches[index].protobufBytes(), "canonical bytes differ for batch \(index)")
            position += length
            index += 1
        }
        #expect(index == batches.count)
    }

    @Test func acksAgreeBothWays() throws {
        let acks = [Ack(), Ack(batches: 1, readings: 40, duplicateBatches: 0, lastSeq: 17),
                    Ack(batches: .max, readings: 1 << 40, duplicateBatches: 3, lastSeq: .max - 1)]
        let text = acks.map {
            "acks { batches: \($0.batches) readings: \($0.readings) duplicate_batches: \($0.duplicateBatches) "
                + "last_seq: \($0.lastSeq) }\n"
        }.joined()
        let encoded = try Protoc.run(["--encode=fixtures.AckList", "batch_list.proto"], input: Array(text.utf8))
        let expected = acks.flatMap { ack -> [UInt8] in
            let bytes = ack.protobufBytes()
            return Wire.tag(1, 2) + Wire.varint(UInt64(bytes.count)) + bytes
        }
        #expect(encoded == expected)
        let single = try Protoc.run(["--encode=telemetry.v1.Ack", "telemetry/v1/telemetry.proto"],
                                    input: Array("batches: 2 readings: 80 duplicate_batches: 1 last_seq: 9".utf8))
        #expect(try Ack(protobuf: single) == Ack(batches: 2, readings: 80, duplicateBatches: 1, lastSeq: 9))
    }

    @Test func weSkipEveryKindOfFieldAFutureVersionAdds() throws {
        let text = """
            firmware: -7
            seq: 12
            lat: 47.5
            series {
              unit: "Cel"
              sensor: "temperature"
              calibration: 99
              exponent: -2
              Extra { level: 3 note: "x" }
              start_ms: 1732190000123
              interval_ms: 1000
              scale: 0.5
              mantissa_deltas: [2154, 1, -1]
            }
            signature: "\\001\\002"
            summary { sensor: "ignored" exponent: 5 }
            flags: [1, -1]
            series { sensor: "battery" exponent: -3 start_ms: 5 mantissa_deltas: [3917, -1] time_deltas_ms: [700] }
            """
        let bytes = try Protoc.run(["--encode=fixtures.FutureBatch", "future_telemetry.proto"],
                                   input: Array(text.utf8))
        let batch = try Batch(protobuf: bytes)
        #expect(batch == Batch(seq: 12, series: [
            Series(sensor: "temperature", exponent: -2, startMs: 1_732_190_000_123, intervalMs: 1000,
                   mantissaDeltas: [2154, 1, -1]),
            Series(sensor: "battery", exponent: -3, startMs: 5, intervalMs: 0, mantissaDeltas: [3917, -1],
                   timeDeltasMs: [700]),
        ]))
        #expect(ReadingBatch(batch).readings.map(\.value) == [21.54, 21.55, 21.54, 3.917, 3.916])
    }
}

/// Runs protoc with the contract and the test fixtures on its import path.
enum Protoc {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let fixtures = Repo.root.appendingPathComponent("Tests/TelemetryTests/Fixtures").path
        process.arguments = ["protoc", "--proto_path=\(Repo.schema.path)", "--proto_path=\(fixtures)"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write and read concurrently so a large output cannot fill the pipe and stall protoc.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "protoc \(arguments) exited \(process.terminationStatus): "
                + String(decoding: errors, as: UTF8.self) + " (is protoc installed? `make test` installs it)")
        }
        return Array(output)
    }
}

/// protoc's text format for our messages: written from values, and read back (enough of the grammar for the
/// output protoc prints for BatchList).
enum TextFormat {
    static func text(of batch: Batch) -> String {
        var out = batch.seq == 0 ? "" : "seq: \(batch.seq)\n"
        for series in batch.series {
            out += "series {\n"
            if !series.sensor.isEmpty { out += "  sensor: \"\(series.sensor)\"\n" }
            if series.exponent != 0 { out += "  exponent: \(series.exponent)\n" }
            if series.startMs != 0 { out += "  start_ms: \(series.startMs)\n" }
            if series.intervalMs != 0 { out += "  interval_ms: \(series.intervalMs)\n" }
            for delta in series.mantissaDeltas { out += "  mantissa_deltas: \(delta)\n" }
            for delta in series.timeDeltasMs { out += "  time_deltas_ms: \(delta)\n" }
            out += "}\n"
        }
        return out
    }

    struct ParseFailure: Error { let line: String }

    static func batches(_ text: String) throws -> [Batch] {
        var batches: [Batch] = []
        var series: Series?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            switch line {
            case "batches {": batches.append(Batch(seq: 0, series: []))
            case "series {": series = Series(sensor: "", exponent: 0, startMs: 0, intervalMs: 0, mantissaDeltas: [])
            case "}":
                if let done = series {
                    batches[batches.count - 1].series.append(done)
                    series = nil
                }
            default:
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { throw ParseFailure(line: line) }
                let (key, value) = (parts[0], parts[1])
                switch key {
                case "seq": batches[batches.count - 1].seq = UInt64(value)!
                case "sensor": series!.sensor = String(value.dropFirst().dropLast())
                case "exponent": series!.exponent = Int32(value)!
                case "start_ms": series!.startMs = Int64(value)!
                case "interval_ms": series!.intervalMs = UInt32(value)!
                case "mantissa_deltas": series!.mantissaDeltas.append(Int64(value)!)
                case "time_deltas_ms": series!.timeDeltasMs.append(UInt32(value)!)
                default: throw ParseFailure(line: line)
                }
            }
        }
        return batches
    }
}
