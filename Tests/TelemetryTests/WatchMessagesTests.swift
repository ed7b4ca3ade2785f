import SplitMix
import Testing
import Telemetry

/// WatchRequest and DeviceBatch: the wire bytes spelled out, protoc's bytes equal ours (both ways), and stored
/// values packed back into Series exactly.
@Suite struct WatchMessagesTests {
    // MARK: WatchRequest

    @Test func watchRequestBytesAreSpelledOut() throws {
        let request = WatchRequest(devices: ["a", ""], sensors: ["temp"], sinceMs: 1_732_190_000_000)
        let expected =
            Wire.field(1, bytes: Array("a".utf8))  // devices[0]
            + Wire.field(1, bytes: [])  // devices[1]: an empty element is still written
            + Wire.field(2, bytes: Array("temp".utf8))  // sensors[0]
            + Wire.field(3, varint: 1_732_190_000_000)  // since_ms
        #expect(request.protobufBytes() == expected)
        #expect(try WatchRequest(protobuf: expected) == request)
        #expect(WatchRequest().protobufBytes() == [])
    }

    @Test(arguments: [
        ("", WatchRequest()),
        ("devices: \"pump-1\" devices: \"pump-2\" sensors: \"rpm\"",
         WatchRequest(devices: ["pump-1", "pump-2"], sensors: ["rpm"])),
        ("since_ms: -5", WatchRequest(sinceMs: -5)),  // a negative int64 is a 10-byte varint
        ("sensors: \"é\" since_ms: 9223372036854775807", WatchRequest(sensors: ["é"], sinceMs: .max)),
    ])
    func protocWatchRequestsEqualOurs(text: String, request: WatchRequest) throws {
        let bytes = try Protoc.run(["--encode=telemetry.v1.WatchRequest", "telemetry/v1/telemetry.proto"],
                                   input: Array(text.utf8))
        #expect(bytes == request.protobufBytes())
        #expect(try WatchRequest(protobuf: bytes) == request)
    }

    @Test func tooManyNamesAreRefusedAsTheyArrive() {
        let names = (0...WatchRequest.maxNames).flatMap { _ in Wire.field(1, bytes: [0x61]) }
        #expect {
            try WatchRequest(protobuf: names)
        } throws: { error in
            "\(error)".contains("devices") && "\(error)".contains("at most 10000 names")
        }
        #expect(throws: Never.self) { try WatchRequest(protobuf: Array(names.dropLast(3))) }
    }

    @Test func watchRequestSkipsUnknownFieldsAndRefusesWrongTypes() throws {
        let bytes = Wire.field(9, varint: 7) + Wire.field(1, bytes: Array("d".utf8)) + Wire.field(12, bytes: [1, 2])
        #expect(try WatchRequest(protobuf: bytes) == WatchRequest(devices: ["d"]))
        #expect(throws: DecodeError.self) { try WatchRequest(protobuf: Wire.field(1, varint: 3)) }
        #expect(throws: DecodeError.self) { try WatchRequest(protobuf: Wire.tag(3, 0)) }  // truncated varint
    }

    // MARK: DeviceBatch

    @Test func deviceBatchBytesAreSpelledOut() throws {
        let batch = Batch(seq: 0, series: [
            Series(sensor: "t", exponent: -1, startMs: 5, intervalMs: 0, mantissaDeltas: [215]),
        ])
        let expected =
            Wire.field(1, bytes: Array("pump-1".utf8))  // device
            + Wire.field(2, bytes: batch.protobufBytes())  // batch (seq 0 omitted inside)
        let message = DeviceBatch(device: "pump-1", batch: batch)
        #expect(message.protobufBytes() == expected)
        #expect(message.protobufSize == expected.count)
        #expect(try DeviceBatch(protobuf: expected) == message)
        // An empty batch is still a set field: 0x12 0x00.
        #expect(DeviceBatch(device: "", batch: Batch(seq: 0, series: [])).protobufBytes() == [0x12, 0x00])
    }

    @Test func protocDeviceBatchesEqualOursBothWays() throws {
        var rng = SplitMix64(seed: 77)
        for index in 0..<60 {
            var batch = RandomBatches.batch(&rng)
            if index % 3 == 0 { batch.seq = 0 }  // replayed readings carry seq 0
            let message = DeviceBatch(device: "dev-\(index)", batch: batch)
            let text = "device: \"dev-\(index)\"\nbatch {\n\(TextFormat.text(of: batch))}\n"
            let theirs = try Protoc.run(["--encode=telemetry.v1.DeviceBatch", "telemetry/v1/telemetry.proto"],
                                        input: Array(text.utf8))
            #expect(theirs == message.protobufBytes(), "message \(index)")
            #expect(try DeviceBatch(protobuf: theirs) == message)
            // protoc reads ours back to the same text it would write.
            let decoded = try Protoc.run(["--decode=telemetry.v1.DeviceBatch", "telemetry/v1/telemetry.proto"],
                                         input: message.protobufBytes())
            let again = try Protoc.run(["--encode=telemetry.v1.DeviceBatch", "telemetry/v1/telemetry.proto"],
                                       input: decoded)
            #expect(again == message.protobufBytes())
        }
    }

    @Test func deviceBatchValidatesItsSeries() {
        let bad = Wire.field(2, bytes: Wire.field(2, bytes: Wire.field(1, bytes: Array("Bad Name".utf8))))
        #expect(throws: DecodeError.self) { try DeviceBatch(protobuf: bad) }
    }

    // MARK: Packing stored values

    @Test func valuesOnTheDeclaredGridMakeOneSeries() {
        let entry = SensorReadings(sensor: "t", exponent: -2, timestamps: [1, 2, 3], values: [21.54, 21.55, -0.01])
        let series = Series.packing(entry)
        #expect(series.count == 1)
        #expect(series[0].exponent == -2 && series[0].mantissaDeltas == [2154, 1, -2156])
        #expect(SensorReadings(series[0]).values == entry.values)
    }

    @Test(arguments: [
        [21.5, 3, 0.001, 1e20, -7.25, 0],  // REST values: no exponent, mixed magnitudes
        [1e-20, 1e20],  // no common grid fits Int64: split
        [0.1 + 0.2, 1],  // 0.30000000000000004 needs 17 digits
    ])
    func valuesWithoutAnExponentAreReproducedExactly(values: [Double]) {
        let times = values.indices.map { Int64($0) * 1_000 }
        let entry = SensorReadings(sensor: "v", exponent: nil, timestamps: times, values: values)
        let series = Series.packing(entry)
        let back = series.flatMap { SensorReadings($0).values }
        let backTimes = series.flatMap { $0.timestamps() }
        #expect(back == values)
        #expect(backTimes == times)
        for item in series { #expect(throws: Never.self) { try item.validate() } }
    }

    @Test func aDeclaredExponentThatDoesNotFitFallsBack() {
        // The series kept exponent -1 (first wins) but this batch's values need -3.
        let entry = SensorReadings(sensor: "v", exponent: -1, timestamps: [1, 2], values: [1.125, 2.5])
        let back = Series.packing(entry).flatMap { SensorReadings($0).values }
        #expect(back == [1.125, 2.5])
    }

    @Test func gapsBeyondUInt32AreSplit() {
        let entry = SensorReadings(sensor: "v", exponent: 0, timestamps: [0, 1 << 33, (1 << 33) + 5],
                                   values: [1, 2, 3])
        let series = Series.packing(entry)
        #expect(series.flatMap { $0.timestamps() } == entry.timestamps)
        #expect(series.count >= 2)
    }
}
