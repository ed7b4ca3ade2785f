import Testing
@testable import Telemetry

/// The Watch messages in proto3 JSON (Connect's `application/connect+json`): both spellings, defaults, errors that
/// name their path, and DeviceBatch written with the Batch writer.
struct WatchMessagesProtoJSONTests {
    @Test func aRequestReadsBothSpellingsStringsAndNumbersAndRoundTrips() throws {
        let request = WatchRequest(devices: ["dev-1", "dev-2"], sensors: ["temperature"], sinceMs: 1_732_190_000_000)
        #expect(String(decoding: request.protoJSONBytes(), as: UTF8.self)
                == #"{"devices":["dev-1","dev-2"],"sensors":["temperature"],"sinceMs":"1732190000000"}"#)
        #expect(try WatchRequest(protoJSON: request.protoJSONBytes()) == request)
        #expect(try WatchRequest(protoJSON: Array(#"{"since_ms":5,"devices":null}"#.utf8)) == WatchRequest(sinceMs: 5))
        #expect(try WatchRequest(protoJSON: Array("{}".utf8)) == WatchRequest())
        #expect(String(decoding: WatchRequest().protoJSONBytes(), as: UTF8.self) == "{}")
    }

    @Test(arguments: [
        (#"{"colour":1}"#, "colour: unknown field"),
        (#"{"devices":"dev-1"}"#, "devices: expected an array of strings"),
        (#"{"devices":["a",2]}"#, "devices[1]"),
        (#"{"sinceMs":[]}"#, "sinceMs: expected an int64"),
        (#"{"sinceMs":1,"since_ms":2}"#, "since_ms"),
        ("[]", "expected an object (a WatchRequest)"),
    ])
    func badRequestsNameTheProblem(_ json: String, _ phrase: String) {
        do {
            _ = try WatchRequest(protoJSON: Array(json.utf8))
            Issue.record("\(json) decoded")
        } catch {
            #expect(error.description.contains(phrase), "\(error.description)")
        }
    }

    @Test func aDeviceBatchNestsTheBatchAsItsOwnJSON() {
        let batch = Batch(seq: 3, series: [Series(sensor: "t", exponent: -1, startMs: 10, intervalMs: 1000,
                                                  mantissaDeltas: [215, 1])])
        let json = String(decoding: DeviceBatch(device: "d", batch: batch).protoJSONBytes(), as: UTF8.self)
        #expect(json == #"{"device":"d","batch":"# + String(decoding: batch.protoJSONBytes(), as: UTF8.self) + "}")
    }
}
