import Accounting
import Foundation
import GRPC
import HTTP2
import Testing
import Telemetry
@testable import Collector

/// A Watch client for tests: our nghttp2 client session over a `RawClient` (every socket byte counted), the
/// response deframed into DeviceBatches, the status from the trailers.
final class WatchTestClient: HTTP2SessionDelegate {
    let raw: RawClient
    var session: HTTP2Session!
    private(set) var stream: Int32 = 0
    private(set) var messages: [DeviceBatch] = []
    private(set) var hasHeaders = false
    private(set) var status: GRPCStatus?
    private(set) var isClosed = false
    private var deframer = GRPCMessageDeframer()

    init(port: UInt16) throws {
        raw = try RawClient(port: port)
        session = HTTP2Session(role: .client, delegate: self)
    }

    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(_, _, let fields, _, _):
            hasHeaders = true
            if let code = fields["grpc-status"].flatMap({ Int($0) }).flatMap(GRPCStatus.Code.init(rawValue:)) {
                status = GRPCStatus(code, GRPCMessageText.decode(fields["grpc-message"] ?? ""))
            }
        case .data(let id, let bytes):
            var decoded: [DeviceBatch] = []
            try? deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(DecodeError) in
                decoded.append(try DeviceBatch(protobuf: message))
            }
            messages += decoded
            session.consume(streamID: id, count: bytes.count)
        case .streamClosed:
            isClosed = true
        case .endStream, .goaway:
            break
        }
    }

    /// Opens the watch and sends `request` with END_STREAM.
    func watch(_ request: WatchRequest, port: UInt16) throws {
        let headers = [
            HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
            HTTP2HeaderField(":path", WatchServerCall.path), HTTP2HeaderField(":authority", "127.0.0.1:\(port)"),
            HTTP2HeaderField("content-type", "application/grpc"), HTTP2HeaderField("te", "trailers"),
        ]
        stream = try session.submitRequest(headers, endStream: false)
        session.send(streamID: stream, GRPCMessageFramer.frame(request.protobufBytes()))
        session.finish(streamID: stream)
        try flush()
    }

    func flush() throws {
        var output: [UInt8] = []
        try session.drainOutput(into: &output, limit: 1 << 20)
        if !output.isEmpty { try raw.send(output) }
    }

    /// Reads and answers until `done` holds (bounded by the socket timeout).
    func pump(until done: () -> Bool) throws {
        try flush()
        while !done() {
            let input = raw.receiveSome()
            guard !input.isEmpty else { throw RawClient.Failure(description: "connection ended or timed out") }
            try input.withUnsafeBytes { try session.receive($0) }
            try flush()
        }
    }

    /// The readings received, as (device, sensor, ts, value).
    var readings: [String] {
        messages.flatMap { message in
            message.batch.series.flatMap { series in
                zip(series.timestamps(), series.values()).map { "\(message.device) \(series.sensor) \($0) \($1)" }
            }
        }
    }
}

/// Watch through a real collector, read by our own client: what arrives, what the ledger books, and the bound on a
/// watcher that does not read.
@Suite(.serialized) struct WatchEndToEndTests {
    @Test func committedBatchesArriveInOrderAndEveryWatchByteIsBookedUnderWatch() throws {
        let collector = try TestCollector()
        let watcher = try WatchTestClient(port: collector.port)
        try watcher.watch(WatchRequest(devices: ["w1", "w2"]), port: collector.port)
        try watcher.pump { watcher.hasHeaders }
        let pusher = try GRPCTestClient(port: collector.port)
        var expected: [String] = []
        for seq in 1...5 {
            for device in ["w1", "w2", "other"] {
                let batch = TestBatches.batch(UInt64(seq), readings: 3)
                _ = try pusher.call(.push, deviceID: device, [batch]).get()
                guard device != "other" else { continue }
                let entry = SensorReadings(batch.series[0])
                expected += zip(entry.timestamps, entry.values).map { "\(device) temperature \($0) \($1)" }
            }
        }
        try watcher.pump { watcher.readings.count >= expected.count }
        #expect(watcher.readings == expected)
        #expect(watcher.messages.map(\.batch.seq) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        watcher.session.reset(streamID: watcher.stream, errorCode: HTTP2ErrorCode.cancel)
        try watcher.flush()
        watcher.raw.close()
        try pusher.close()
        collector.waitForIdle()
        let row = collector.server.ledger.snapshot()[BandwidthKey(WireProtocol.watch, WireProtocol.overheadDevice)]
        #expect(row?.bytesIn.total == Int64(watcher.raw.bytesSent))
        #expect(row?.bytesOut.total == Int64(watcher.raw.bytesReceived))
        #expect(row?.calls == 1 && row?.errors == 0 && row?.connections == 1 && row?.readings == 0)
        let (socketIn, socketOut) = collector.server.socketTotals()
        let rows = collector.server.ledger.snapshot().values
        #expect(rows.reduce(Int64(0)) { $0 + $1.bytesIn.total } == socketIn)
        #expect(rows.reduce(Int64(0)) { $0 + $1.bytesOut.total } == socketOut)
    }

    @Test func aWatcherThatDoesNotReadIsEndedAtItsBoundWhileIngestGoesOn() throws {
        let collector = try TestCollector {
            $0.watchLimits.maxQueuedBatches = 3
            $0.watchLimits.maxUnsentBytes = 8 << 10
        }
        let watcher = try WatchTestClient(port: collector.port)
        try watcher.watch(WatchRequest(), port: collector.port)
        try watcher.pump { watcher.hasHeaders }
        // The watcher reads nothing now: its 256 KiB window fills, then 8 KiB wait unsent, then 3 batches queue.
        let pusher = try GRPCTestClient(port: collector.port)
        let batches = (1...400).map { TestBatches.batch(UInt64($0), readings: 900) }
        let ack = try pusher.call(.upload, deviceID: "busy", batches).get()
        #expect(ack.batches == 400 && ack.readings == 360_000)
        try watcher.pump { watcher.status != nil }
        #expect(watcher.status?.code == .resourceExhausted)
        #expect(watcher.status?.message.hasPrefix("watcher fell behind: ") == true)
        #expect(watcher.status?.message.hasSuffix("batches queued (limit 3)") == true)
        #expect(watcher.messages.count < 400)
        try pusher.close()
    }
}
