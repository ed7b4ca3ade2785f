import Foundation
import GRPC
import HTTP2
import Testing
import Telemetry
@testable import Collector
@testable import CollectorService

/// The collector's gRPC service through the project's own HTTP/2 client: calls, dedup, durability, and each
/// error status with a message that names the problem.
@Suite(.serialized) struct GRPCEndToEndTests {
    static func status(_ result: Result<Ack, GRPCStatus>) -> GRPCStatus {
        switch result {
        case .success: GRPCStatus.ok
        case .failure(let status): status
        }
    }

    @Test func pushAndUploadAreAcknowledgedAfterCommit() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        #expect(try client.call(.push, deviceID: "g1", [TestBatches.batch(1)]).get()
                == Ack(batches: 1, readings: 10, duplicateBatches: 0, lastSeq: 1))
        let batches = (2...41).map { TestBatches.batch(UInt64($0)) } + [TestBatches.batch(5)]
        #expect(try client.call(.upload, deviceID: "g1", batches).get()
                == Ack(batches: 41, readings: 400, duplicateBatches: 1, lastSeq: 41))
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'g1'") == ["410"])
        // Exact values, read independently.
        let rows = try collector.query("SELECT ts, value FROM readings_view WHERE device = 'g1' ORDER BY ts LIMIT 10")
        #expect(rows == ReadingBatch(TestBatches.batch(1)).readings.map { "\($0.ts)|\($0.value)" })
        #expect(try client.call(.upload, deviceID: "g1", []).get() == Ack(batches: 0, readings: 0, duplicateBatches: 0,
                                                                           lastSeq: 0))
    }

    @Test func headerErrorsNameTheProblem() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let missing = Self.status(try client.call(.push, deviceID: nil, [TestBatches.batch(1)]))
        #expect(missing.code == .invalidArgument && missing.message.contains("device-id"))
        let invalid = Self.status(try client.call(.push, deviceID: "no spaces", [TestBatches.batch(1)]))
        #expect(invalid.code == .invalidArgument && invalid.message.contains("device-id"))
        let unknown = try client.open("/telemetry.v1.Telemetry/Download", deviceID: "g")
        let unknownStatus = Self.status(try client.finish(unknown))
        #expect(unknownStatus.code == .unimplemented && unknownStatus.message.contains("Download"))
        let gzip = Self.status(try client.call(.push, deviceID: "g", [TestBatches.batch(1)],
                                               extra: [HTTP2HeaderField("grpc-encoding", "gzip")]))
        #expect(gzip.code == .unimplemented && gzip.message.contains("gzip"))
        // The connection survives every refusal.
        #expect(try client.call(.push, deviceID: "g", [TestBatches.batch(1)]).get().readings == 10)
    }

    @Test func httpLevelRefusalsForWrongMethodAndContentType() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let get = try client.open(TelemetryMethod.push.rawValue, deviceID: "g", httpMethod: "GET")
        _ = try client.finish(get)
        #expect(client.httpStatus(get) == 405)
        let text = try client.open(TelemetryMethod.push.rawValue, deviceID: "g", contentType: "text/plain")
        _ = try client.finish(text)
        #expect(client.httpStatus(text) == 415)
        #expect(String(decoding: client.body(text), as: UTF8.self).contains("application/grpc"))
        // application/json on a method path is Connect (issue 15): an empty body is its 400, not a 415.
        let json = try client.open(TelemetryMethod.push.rawValue, deviceID: "g", contentType: "application/json")
        _ = try client.finish(json)
        #expect(client.httpStatus(json) == 400)
        #expect(String(decoding: client.body(json), as: UTF8.self).contains("invalid_argument"))
    }

    @Test func messageErrors() throws {
        let collector = try TestCollector { $0.maxMessageBytes = 1024 }
        let client = try GRPCTestClient(port: collector.port)
        // Malformed protobuf after a good batch: the good one is stored, the call fails naming batch and field.
        let upload = try client.open(TelemetryMethod.upload.rawValue, deviceID: "m1")
        try client.send(upload, GRPCMessageFramer.frame(TestBatches.batch(1).protobufBytes()))
        try client.send(upload, GRPCMessageFramer.frame([0x08, 2, 0x12, 3, 0x0A, 1, 0x41]))
        let malformed = Self.status(try client.await(upload))
        #expect(malformed.code == .invalidArgument)
        #expect(malformed.message.contains("batch 2: series[0].sensor"))
        // Oversized: refused at the 5-byte prefix.
        let big = try client.open(TelemetryMethod.push.rawValue, deviceID: "m1")
        try client.send(big, [0, 0, 0, 0x10, 0])
        let tooLarge = Self.status(try client.await(big))
        #expect(tooLarge.code == .resourceExhausted && tooLarge.message.contains("1024"))
        // Compressed flag without an encoding.
        let compressed = try client.open(TelemetryMethod.push.rawValue, deviceID: "m1")
        try client.send(compressed, [1, 0, 0, 0, 1, 0])
        #expect(Self.status(try client.await(compressed)).code == .unimplemented)
        // Push with two messages: refused, and neither is stored (a Push is submitted only at END_STREAM).
        let two = Self.status(try client.call(.push, deviceID: "m1", [TestBatches.batch(3), TestBatches.batch(4)]))
        #expect(two.code == .unimplemented)
        // Stream ending inside a message.
        let cut = try client.open(TelemetryMethod.push.rawValue, deviceID: "m1")
        try client.send(cut, [0, 0, 0, 0, 20, 1, 2])
        #expect(Self.status(try client.finish(cut)).code == .invalidArgument)
        try collector.server.store.close()  // commits everything queued
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'm1'") == ["10"])
    }

    @Test func deadlineIsHonoured() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let stream = try client.open(TelemetryMethod.upload.rawValue, deviceID: "slow",
                                     extra: [HTTP2HeaderField("grpc-timeout", "200m")])
        try client.send(stream, GRPCMessageFramer.frame(TestBatches.batch(1).protobufBytes()))
        let started = Date()
        let status = Self.status(try client.await(stream))  // never half-closed
        #expect(status.code == .deadlineExceeded)
        #expect(Date().timeIntervalSince(started) < 3)
        // What was sent before the deadline was accepted and is stored.
        try collector.server.store.close()
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'slow'") == ["10"])
    }

    @Test func clientResetLosesNothingCommittedAndRetriesDeduplicate() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let stream = try client.open(TelemetryMethod.upload.rawValue, deviceID: "r1")
        for seq in 1...5 { try client.send(stream, GRPCMessageFramer.frame(TestBatches.batch(UInt64(seq)).protobufBytes())) }
        client.session.reset(streamID: stream, errorCode: HTTP2ErrorCode.cancel)
        _ = try? client.await(stream)
        // Retry everything on a new call: what was already stored is a duplicate, nothing is stored twice.
        let ack = try client.call(.upload, deviceID: "r1", (1...6).map { TestBatches.batch(UInt64($0)) }).get()
        #expect(ack.batches == 6 && ack.lastSeq == 6)
        #expect(ack.readings + ack.duplicateBatches * 10 == 60)
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'r1'") == ["60"])
    }

    @Test func restOverH2C() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let id = try client.session.submitRequest([
            HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
            HTTP2HeaderField(":path", "/v1/devices/h2/readings"), HTTP2HeaderField(":authority", "t"),
            HTTP2HeaderField("content-type", "application/json"),
        ], endStream: false)
        client.session.send(streamID: id, TestBatches.json(1))
        client.session.finish(streamID: id)
        try client.pump(until: id)
        #expect(client.httpStatus(id) == 200)
        #expect(try JSONValue.parse(client.body(id))["readings"]?.int64Value == 10)
    }
}
