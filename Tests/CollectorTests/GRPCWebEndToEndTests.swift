import Accounting
import Foundation
import GRPC
import HTTP1
import Testing
import Telemetry
@testable import Collector

/// gRPC-Web over HTTP/1.1 against a real collector, spoken by a raw socket with the framing written here: Push in
/// both encodings, refusals as Trailers-Only, Watch streamed in chunks, and every byte booked under its row.
@Suite(.serialized) struct GRPCWebEndToEndTests {
    /// The frames of a binary gRPC-Web body: (flag, payload).
    static func frames(_ body: [UInt8]) -> [(flag: UInt8, payload: [UInt8])] {
        var frames: [(UInt8, [UInt8])] = []
        var offset = 0
        while offset + 5 <= body.count {
            let length = Int(body[offset + 1]) << 24 | Int(body[offset + 2]) << 16 | Int(body[offset + 3]) << 8
                | Int(body[offset + 4])
            frames.append((body[offset], Array(body[(offset + 5)..<min(offset + 5 + length, body.count)])))
            offset += 5 + length
        }
        return frames
    }

    static func request(_ path: String, contentType: String, body: [UInt8], extra: String = "") -> [UInt8] {
        Array("""
            POST \(path) HTTP/1.1\r
            Host: 127.0.0.1\r
            content-type: \(contentType)\r
            x-grpc-web: 1\r
            \(extra)content-length: \(body.count)\r
            \r

            """.utf8) + body
    }

    @Test func pushInBothEncodingsIsAckedAfterCommitWithTheStatusInTheTrailerFrame() throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        let first = GRPCMessageFramer.frame(TestBatches.batch(1, readings: 4).protobufBytes())
        try client.send(Self.request(TelemetryMethod.push.rawValue, contentType: "application/grpc-web+proto",
                                     body: first, extra: "device-id: web-1\r\n"))
        let binary = try client.readResponse()
        #expect(binary.status == 200)
        #expect(binary.headers["content-type"] == "application/grpc-web+proto")
        let frames = Self.frames(binary.body)
        #expect(frames.map(\.flag) == [0x00, 0x80])
        let ack = try Ack(protobuf: frames[0].payload)
        #expect(ack.batches == 1 && ack.readings == 4 && ack.lastSeq == 1)
        #expect(GRPCWebFraming.parseTrailerBlock(frames[1].payload)?["grpc-status"] == "0")

        // The same connection, text mode: base64 both ways.
        let second = GRPCMessageFramer.frame(TestBatches.batch(2, readings: 3).protobufBytes())
        try client.send(Self.request(TelemetryMethod.push.rawValue, contentType: "application/grpc-web-text",
                                     body: GRPCWebText.encode(second), extra: "device-id: web-1\r\n"))
        let text = try client.readResponse()
        #expect(text.headers["content-type"] == "application/grpc-web-text+proto")
        var decoder = GRPCWebText()
        let decoded = try decoder.decode(text.body)
        let textFrames = Self.frames(decoded)
        #expect(try Ack(protobuf: textFrames[0].payload).readings == 3)
        client.close()
        collector.waitForIdle()

        let rows = collector.server.ledger.snapshot()
        let binaryRow = rows[BandwidthKey(WireProtocol.grpcWeb, "web-1")]
        let textRow = rows[BandwidthKey(WireProtocol.grpcWebText, "web-1")]
        #expect(binaryRow?.readings == 4 && binaryRow?.calls == 1 && binaryRow?.errors == 0)
        #expect(textRow?.readings == 3 && textRow?.calls == 1)
        #expect(binaryRow?.bytesIn.framing == 5)  // the request's message prefix
        let (socketIn, socketOut) = collector.server.socketTotals()
        #expect(rows.values.reduce(Int64(0)) { $0 + $1.bytesIn.total } == socketIn)
        #expect(rows.values.reduce(Int64(0)) { $0 + $1.bytesOut.total } == socketOut)
        #expect(Int64(client.bytesSent) == socketIn && Int64(client.bytesReceived) == socketOut)
    }

    @Test(arguments: [
        ("/telemetry.v1.Telemetry/Upload", "device-id: d\r\n", [UInt8](), GRPCStatus.Code.unimplemented, "Push"),
        ("/telemetry.v1.Telemetry/Nope", "device-id: d\r\n", [], .unimplemented, "unknown method"),
        ("/telemetry.v1.Telemetry/Push", "", [], .invalidArgument, "missing device-id"),
        ("/telemetry.v1.Telemetry/Push", "device-id: d\r\n", [0x80, 0, 0, 0, 0], .invalidArgument, "flag 0x80"),
        ("/telemetry.v1.Telemetry/Push", "device-id: d\r\n", [0, 0x7f, 0, 0, 0], .resourceExhausted, "exceeds the limit"),
        ("/telemetry.v1.Telemetry/Push", "device-id: d\r\n", [0, 0, 0, 0, 9, 1], .invalidArgument, "ended inside"),
    ])
    func refusalsAreTrailersOnlyAndStoreNothing(
        path: String, extra: String, body: [UInt8], code: GRPCStatus.Code, phrase: String
    ) throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        try client.send(Self.request(path, contentType: "application/grpc-web", body: body, extra: extra))
        let response = try client.readResponse()
        #expect(response.status == 200 && response.body.isEmpty)
        #expect(response.headers["grpc-status"] == String(code.rawValue))
        #expect(GRPCMessageText.decode(response.headers["grpc-message"] ?? "").contains(phrase))
        client.close()
        collector.waitForIdle()
        #expect(collector.server.ledger.snapshot().values.reduce(0) { $0 + $1.readings } == 0)
    }

    @Test func aTextBodyThatIsNotBase64IsRefusedNamingTheOffset() throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        try client.send(Self.request(TelemetryMethod.push.rawValue, contentType: "application/grpc-web-text",
                                     body: Array("AAAA*AAA".utf8), extra: "device-id: d\r\n"))
        let response = try client.readResponse()
        #expect(response.headers["grpc-status"] == "3")
        #expect(GRPCMessageText.decode(response.headers["grpc-message"] ?? "") .contains("at byte 4"))
    }

    @Test func watchStreamsCommittedBatchesInChunksUntilTheClientLeaves() throws {
        let collector = try TestCollector()
        let watcher = try RawClient(port: collector.port)
        let request = GRPCMessageFramer.frame(WatchRequest(devices: ["w1"]).protobufBytes())
        try watcher.send(Self.request(WatchServerCall.path, contentType: "application/grpc-web+proto", body: request))
        // The head arrives once the subscription is registered.
        var received: [UInt8] = []
        func readUntil(_ done: ([UInt8]) -> Bool) {
            while !done(received) {
                let some = watcher.receiveSome()
                if some.isEmpty { return }
                received += some
            }
        }
        readUntil { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        let headEnd = received.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound
        let head = String(decoding: received[..<headEnd], as: UTF8.self)
        #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(head.contains("Transfer-Encoding: chunked") && head.contains("application/grpc-web+proto"))
        let pusher = try GRPCTestClient(port: collector.port)
        for seq in 1...3 {
            _ = try pusher.call(.push, deviceID: "w1", [TestBatches.batch(UInt64(seq), readings: 2)]).get()
            _ = try pusher.call(.push, deviceID: "other", [TestBatches.batch(UInt64(seq), readings: 2)]).get()
        }
        // Three chunks, each one DeviceBatch frame.
        func messages() -> [DeviceBatch] {
            var body: [UInt8] = []
            var offset = headEnd
            let bytes = received
            while let lineEnd = bytes[offset...].firstRange(of: [13, 10]) {
                guard let size = Int(String(decoding: bytes[offset..<lineEnd.lowerBound], as: UTF8.self), radix: 16),
                      lineEnd.upperBound + size + 2 <= bytes.count else { break }
                body += bytes[lineEnd.upperBound..<(lineEnd.upperBound + size)]
                offset = lineEnd.upperBound + size + 2
            }
            return Self.frames(body).compactMap { $0.flag == 0 ? try? DeviceBatch(protobuf: $0.payload) : nil }
        }
        readUntil { _ in messages().count >= 3 }
        #expect(messages().map(\.device) == ["w1", "w1", "w1"])
        #expect(messages().map(\.batch.seq) == [1, 2, 3])
        watcher.close()
        try pusher.close()
        collector.waitForIdle()
        let row = collector.server.ledger.snapshot()[BandwidthKey(WireProtocol.watch, WireProtocol.overheadDevice)]
        #expect(row?.calls == 1 && row?.errors == 0)
        #expect(row?.bytesIn.total == Int64(watcher.bytesSent))
        #expect(row?.bytesOut.total == Int64(watcher.bytesReceived))
    }
}

/// A declared body over the HTTP/1.1 limit is refused at its head in the request's own protocol.
@Suite(.serialized) struct GRPCWebBodyLimitTests {
    @Test func aGRPCWebBodyOverTheLimitIsTrailersOnlyResourceExhausted() throws {
        let collector = try TestCollector { $0.maxBodyBytes = 2048 }
        let client = try RawClient(port: collector.port)
        try client.send(Array("""
            POST /telemetry.v1.Telemetry/Push HTTP/1.1\r
            Host: x\r
            content-type: application/grpc-web-text\r
            device-id: big\r
            content-length: 100000\r
            \r

            """.utf8))
        let response = try client.readResponse()
        #expect(response.status == 200 && response.body.isEmpty)
        #expect(response.headers["content-type"] == "application/grpc-web-text+proto")
        #expect(response.headers["grpc-status"] == String(GRPCStatus.Code.resourceExhausted.rawValue))
        #expect(GRPCMessageText.decode(response.headers["grpc-message"] ?? "")
                == "Content-Length 100000 larger than the 2048-byte body limit")
        #expect(client.waitForClose())
    }
}
