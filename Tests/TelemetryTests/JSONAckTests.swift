// The REST ingest response: the Ack with the protobuf field names, written compactly and read back strictly.

import SplitMix
import Testing

@testable import Telemetry

@Suite("Ack JSON")
struct JSONAckTests {
    @Test("the contract's form")
    func encodes() {
        let ack = Ack(batches: 1, readings: 40, duplicateBatches: 0, lastSeq: 17)
        #expect(ack.jsonBytes().text == #"{"batches":1,"readings":40,"duplicate_batches":0,"last_seq":17}"#)
    }

    @Test("random Acks round-trip, extremes included", arguments: [21, 22] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<200 {
            let ack = Ack(
                batches: random.next() >> random.next() % 64, readings: random.next(),
                duplicateBatches: [0, .max, random.next()].randomElement(using: &random)!,
                lastSeq: random.next() >> 32)
            #expect(try Ack(json: ack.jsonBytes()) == ack)
        }
    }

    @Test("keys in any order, whitespace and escaped keys are fine")
    func lenientSpelling() throws {
        let text = #" { "last_seq" : 3, "duplicate_b\u0061tches": 0, "readings": 18446744073709551615, "batches": 2 } "#
        #expect(try Ack(json: Array(text.utf8)) == Ack(batches: 2, readings: .max, duplicateBatches: 0, lastSeq: 3))
    }

    @Test(
        "strict: exactly four unsigned integer fields",
        arguments: [
            (#"{"batches":1,"readings":2,"duplicate_batches":0‸}"#, "last_seq", DecodeError.Reason.missingField),
            (#"{‸}"#, "batches", .missingField),
            (#"{"batches":1,"readings":2,"duplicate_batches":0,"last_seq":3,‸"extra":1}"#, "extra", .unknownField),
            (
                #"{"batches":1,‸"batches":1,"readings":2,"duplicate_batches":0,"last_seq":3}"#, "batches",
                .duplicateField
            ),
            (#"{"batches":‸-1,"readings":2,"duplicate_batches":0,"last_seq":3}"#, "batches", .numberOutOfRange),
            (
                #"{"batches":1,"readings":‸18446744073709551616,"duplicate_batches":0,"last_seq":3}"#, "readings",
                .numberOutOfRange
            ),
            (
                #"{"batches":1,"readings":2,"duplicate_batches":‸1.0,"last_seq":3}"#, "duplicate_batches",
                .expected("integer")
            ),
            (#"{"batches":1,"readings":2,"duplicate_batches":0,"last_seq":‸"3"}"#, "last_seq", .expected("integer")),
            (#"{"batches":1,"readings":2,"duplicate_batches":0,"last_seq":‸1e2}"#, "last_seq", .expected("integer")),
            (
                #"{"batches":1,"readings":2,"duplicate_batches":0,"last_seq":‸}"#, "last_seq",
                .syntax("expected a value")
            ),
            (
                #"{"batches":1,"readings":2,"duplicate_batches":0,"last_seq":3}‸,"#, "",
                .syntax("unexpected data after the JSON value")
            ),
            (#"‸[]"#, "", .expected("object")),
            (#"{"batches":1‸"#, "", .syntax("unexpected end of input")),
        ] as [(String, String, DecodeError.Reason)])
    func refuses(_ input: String, _ path: String, _ reason: DecodeError.Reason) {
        let marked = Marked(input)
        #expect(throws: DecodeError(reason, path: path, offset: marked.offset), "\(marked)") {
            try Ack(json: marked.bytes)
        }
    }
}
