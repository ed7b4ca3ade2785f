import GRPC
import Telemetry
import Testing

/// The Watch call's rules (WatchServerCall.swift), driven without a transport or a store.
@Suite struct WatchServerCallTests {
    private func feed(_ call: inout WatchServerCall, _ bytes: [UInt8]) -> WatchServerCall.Action? {
        bytes.withUnsafeBytes { call.receive($0) }
    }

    private func framed(_ request: WatchRequest) -> [UInt8] {
        GRPCMessageFramer.frame(request.protobufBytes())
    }

    @Test func oneRequestStartsAtHalfClose() {
        var call = WatchServerCall()
        let request = WatchRequest(devices: ["pump-1"], sensors: ["temp"], sinceMs: 5)
        let bytes = framed(request)
        // Split at every position: nothing starts before END_STREAM.
        for split in 0...bytes.count {
            var call = WatchServerCall()
            #expect(feed(&call, Array(bytes[..<split])) == nil)
            #expect(feed(&call, Array(bytes[split...])) == nil)
            #expect(call.receiveEnd() == .start(request))
            #expect(call.isStarted && call.isRequestComplete)
        }
        #expect(feed(&call, bytes) == nil)
        #expect(call.messageCount == 1)
        #expect(call.receiveEnd() == .start(request))
        #expect(call.receiveEnd() == nil)
    }

    @Test func aSecondMessageNoMessageOrAPartialOneIsInvalid() {
        var two = WatchServerCall()
        let action = feed(&two, framed(WatchRequest()) + framed(WatchRequest()))
        guard case .fail(let status) = action else { Issue.record("expected a failure"); return }
        #expect(status.code == .invalidArgument && status.message.contains("exactly one"))
        #expect(two.receiveEnd() == nil)

        var none = WatchServerCall()
        guard case .fail(let empty) = none.receiveEnd() else { Issue.record("expected a failure"); return }
        #expect(empty.code == .invalidArgument && empty.message.contains("none was sent"))

        var partial = WatchServerCall()
        #expect(feed(&partial, Array(framed(WatchRequest(devices: ["x"])).dropLast())) == nil)
        #expect(partial.bufferedBytes > 0)
        guard case .fail(let cut) = partial.receiveEnd() else { Issue.record("expected a failure"); return }
        #expect(cut.code == .invalidArgument)
    }

    @Test func undecodableRequestIsInvalid() {
        var call = WatchServerCall()
        let action = feed(&call, GRPCMessageFramer.frame([0x0A, 0x05, 0x61]))  // length past the end
        guard case .fail(let status) = action else { Issue.record("expected a failure"); return }
        #expect(status.code == .invalidArgument && status.message.hasPrefix("WatchRequest:"))
    }

    @Test(arguments: [
        (WatchRequest(devices: ["ok", "bad one", "x/y"]), ["\"bad one\"", "\"x/y\""]),
        (WatchRequest(sensors: ["Temp", "fine", ""]), ["\"Temp\"", "\"\""]),
        (WatchRequest(devices: ["é"], sensors: ["a b"], sinceMs: -1), ["\"é\"", "\"a b\"", "since_ms"]),
    ])
    func badNamesAreAllNamed(request: WatchRequest, named: [String]) {
        let status = WatchServerCall.validate(request)
        #expect(status?.code == .invalidArgument)
        for name in named { #expect(status?.message.contains(name) == true, "\(name) in \(status?.message ?? "")") }
        #expect(status?.message.contains("\"ok\"") == false)
        #expect(status?.message.contains("\"fine\"") == false)
    }

    @Test func validRequestsPass() {
        #expect(WatchServerCall.validate(WatchRequest()) == nil)
        #expect(WatchServerCall.validate(WatchRequest(devices: ["a.b:c-1_2"], sensors: ["co2", "x.y-z_1"])) == nil)
    }

    @Test func responsePartsHeadersOnceThenMessagesThenOneStatus() throws {
        var call = WatchServerCall()
        _ = feed(&call, framed(WatchRequest()))
        _ = call.receiveEnd()
        #expect(call.headers() == [.headers(.responseHeaders)])
        #expect(call.headers() == [])
        let readings = ReadingBatch(seq: 7, sensors: [
            SensorReadings(sensor: "t", exponent: -1, timestamps: [10, 20], values: [21.5, 21.6]),
        ])
        let parts = call.message(device: "pump-1", readings: readings)
        #expect(parts.count == 1)
        guard case .message(let bytes) = parts[0] else { Issue.record("expected a message"); return }
        let decoded = try DeviceBatch(protobuf: bytes)
        #expect(decoded.device == "pump-1" && decoded.batch.seq == 7)
        #expect(ReadingBatch(decoded.batch) == readings)
        #expect(call.finish(with: GRPCStatus(.resourceExhausted, "behind")) == [
            .status(GRPCStatus(.resourceExhausted, "behind"), trailers: GRPCMetadata()),
        ])
        #expect(call.finish(with: .ok) == [])
        #expect(call.message(device: "x", readings: readings) == [])
    }

    @Test func theFirstMessageBringsTheHeadersAlong() {
        var call = WatchServerCall()
        let parts = call.message(device: "d", readings: ReadingBatch(seq: 1, sensors: []))
        #expect(parts.first == .headers(.responseHeaders) && parts.count == 2)
    }

    @Test func theRouterAppliesTheGenericChecks() throws {
        let head = GRPCRequestHead(
            path: WatchServerCall.path, authority: "x",
            metadata: ["content-type": "application/grpc", "grpc-timeout": "2S"])
        #expect(try WatchServerCall.router.route(head) == 2_000_000_000)
        var plain = head
        plain.metadata = ["content-type": "text/plain"]
        #expect(throws: GRPCRequestRejection.self) { try WatchServerCall.router.route(plain) }
    }
}
