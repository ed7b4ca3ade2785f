import Testing
import HTTP2

/// Records a session's events as plain values.
final class Recorder: HTTP2SessionDelegate {
    enum Event: Equatable {
        case headers(Int32, HTTP2HeaderBlockKind, [HTTP2HeaderField], endStream: Bool, tooLarge: Bool)
        case data(Int32, [UInt8])
        case endStream(Int32)
        case closed(Int32, UInt32)
        case goaway(UInt32)
    }
    var events: [Event] = []
    var autoConsume = true
    var onEvent: ((HTTP2Session, HTTP2Event) -> Void)?

    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let id, let kind, let fields, let end, let tooLarge):
            events.append(.headers(id, kind, fields, endStream: end, tooLarge: tooLarge))
        case .data(let id, let bytes):
            events.append(.data(id, Array(bytes)))
            if autoConsume { session.consume(streamID: id, count: bytes.count) }
        case .endStream(let id): events.append(.endStream(id))
        case .streamClosed(let id, let code): events.append(.closed(id, code))
        case .goaway(_, let code): events.append(.goaway(code))
        }
        onEvent?(session, event)
    }

    /// All DATA bytes received on a stream.
    func body(_ id: Int32) -> [UInt8] {
        events.flatMap { event -> [UInt8] in
            if case .data(id, let bytes) = event { return bytes }
            return []
        }
    }
}

/// A client and a server session connected in memory, with every byte scanned in both directions.
final class Pair {
    let clientRecorder = Recorder()
    let serverRecorder = Recorder()
    let client: HTTP2Session
    let server: HTTP2Session
    var toServer = HTTP2FrameScanner(expectsPreface: true)
    var toClient = HTTP2FrameScanner(expectsPreface: false)
    var runsToServer: [HTTP2ByteRun] = []
    var runsToClient: [HTTP2ByteRun] = []
    var bytesToServer = 0
    var bytesToClient = 0

    init(serverSettings: HTTP2Settings = HTTP2Settings()) {
        client = HTTP2Session(role: .client, delegate: clientRecorder)
        server = HTTP2Session(role: .server, settings: serverSettings, delegate: serverRecorder)
    }

    /// Moves bytes both ways until neither side has anything to send.
    func pump() throws {
        for _ in 0..<10_000 {
            var c2s: [UInt8] = []
            try client.drainOutput(into: &c2s)
            var s2c: [UInt8] = []
            try server.drainOutput(into: &s2c)
            if c2s.isEmpty && s2c.isEmpty { return }
            bytesToServer += c2s.count
            bytesToClient += s2c.count
            try c2s.withUnsafeBytes { bytes in
                toServer.scan(bytes) { runsToServer.append($0) }
                try server.receive(bytes)
            }
            try s2c.withUnsafeBytes { bytes in
                toClient.scan(bytes) { runsToClient.append($0) }
                try client.receive(bytes)
            }
        }
        Issue.record("pump did not settle")
    }

    static let requestHeaders = [
        HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
        HTTP2HeaderField(":path", "/telemetry.v1.Telemetry/Push"), HTTP2HeaderField(":authority", "localhost"),
        HTTP2HeaderField("content-type", "application/grpc"), HTTP2HeaderField("te", "trailers"),
        HTTP2HeaderField("device-id", "dev-1"),
    ]
}

@Suite struct HTTP2SessionTests {
    @Test func unaryCallWithBodyAndTrailers() throws {
        let pair = Pair()
        let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
        pair.client.send(streamID: id, [1, 2, 3])
        pair.client.finish(streamID: id)
        pair.serverRecorder.onEvent = { session, event in
            guard case .endStream(let streamID) = event else { return }
            try? session.submitResponse(streamID: streamID, [HTTP2HeaderField(":status", "200"),
                                                             HTTP2HeaderField("content-type", "application/grpc")],
                                        endStream: false)
            session.send(streamID: streamID, [9, 9])
            session.finish(streamID: streamID, trailers: [HTTP2HeaderField("grpc-status", "0")])
        }
        try pair.pump()
        #expect(pair.serverRecorder.events.first == .headers(id, .request, Pair.requestHeaders, endStream: false,
                                                             tooLarge: false))
        #expect(pair.serverRecorder.body(id) == [1, 2, 3])
        #expect(pair.serverRecorder.events.contains(.endStream(id)))
        #expect(pair.serverRecorder.events.last == .closed(id, 0))
        let clientEvents = pair.clientRecorder.events
        #expect(clientEvents.contains(.headers(id, .response, [HTTP2HeaderField(":status", "200"),
                                                                HTTP2HeaderField("content-type", "application/grpc")],
                                               endStream: false, tooLarge: false)))
        #expect(pair.clientRecorder.body(id) == [9, 9])
        #expect(clientEvents.contains(.headers(id, .trailers, [HTTP2HeaderField("grpc-status", "0")], endStream: true,
                                               tooLarge: false)))
        #expect(clientEvents.last == .closed(id, 0))
    }

    @Test func trailersOnlyBeforeTheClientFinishedIsFollowedByNoErrorReset() throws {
        let pair = Pair()
        let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
        pair.client.send(streamID: id, [1])
        pair.serverRecorder.onEvent = { session, event in
            guard case .headers(let streamID, .request, _, _, _) = event else { return }
            try? session.submitResponse(streamID: streamID, [
                HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc"),
                HTTP2HeaderField("grpc-status", "3"), HTTP2HeaderField("grpc-message", "bad"),
            ], endStream: true)
        }
        try pair.pump()
        let response = pair.clientRecorder.events.first { if case .headers = $0 { true } else { false } }
        #expect(response == .headers(id, .response, [
            HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc"),
            HTTP2HeaderField("grpc-status", "3"), HTTP2HeaderField("grpc-message", "bad"),
        ], endStream: true, tooLarge: false))
        #expect(pair.clientRecorder.events.last == .closed(id, HTTP2ErrorCode.noError))
        // The RST_STREAM went out after the HEADERS, on the same stream.
        let serverFrames = pair.runsToClient.filter { $0.part == .frameHeader && $0.streamID == UInt32(id) }
        #expect(serverFrames.map(\.frameType) == [HTTP2FrameType.headers, HTTP2FrameType.rstStream])
    }

    @Test func headerListOverTheLimitIsFlagged() throws {
        var settings = HTTP2Settings()
        settings.maxHeaderListSize = 1024
        let pair = Pair(serverSettings: settings)
        let id = try pair.client.submitRequest(Pair.requestHeaders + [HTTP2HeaderField("x-big",
                                                                                       String(repeating: "a", count: 40_000))],
                                               endStream: true)
        try pair.pump()
        guard case .headers(id, .request, let fields, true, true) = pair.serverRecorder.events.first else {
            Issue.record("expected a flagged header block, got \(pair.serverRecorder.events)")
            return
        }
        #expect(fields == Pair.requestHeaders)
        // 40 KB of header value (about 25 KB after Huffman coding) needed HEADERS + CONTINUATION frames.
        let continuations = pair.runsToServer.filter { $0.frameType == HTTP2FrameType.continuation && $0.part == .frameHeader }
        #expect(continuations.count >= 1)
    }

    @Test func unconsumedDataStopsThePeerUntilConsumed() throws {
        let pair = Pair()
        pair.serverRecorder.autoConsume = false
        let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
        let payload = [UInt8](repeating: 7, count: 600_000)
        pair.client.send(streamID: id, payload)
        pair.client.finish(streamID: id)
        try pair.pump()
        let window = Int(HTTP2Settings().initialWindowSize)
        #expect(pair.serverRecorder.body(id).count == window)
        #expect(pair.client.pendingBodyBytes(streamID: id) > 0)
        pair.server.consume(streamID: id, count: window)
        try pair.pump()
        #expect(pair.serverRecorder.body(id).count == 2 * window)
        pair.serverRecorder.autoConsume = true
        pair.server.consume(streamID: id, count: window)
        try pair.pump()
        #expect(pair.serverRecorder.body(id) == payload)
        #expect(pair.serverRecorder.events.contains(.endStream(id)))
    }

    @Test func streamsClosedUnconsumedDoNotLeakTheConnectionWindow() throws {
        let pair = Pair()
        pair.serverRecorder.autoConsume = false
        // Each stream fills its 256 KiB window and is then reset by the client; together they exceed the
        // 1 MiB connection window several times over. A leak would stall the last stream.
        for _ in 0..<8 {
            let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
            pair.client.send(streamID: id, [UInt8](repeating: 1, count: 256 << 10))
            try pair.pump()
            pair.client.reset(streamID: id, errorCode: HTTP2ErrorCode.cancel)
            try pair.pump()
        }
        pair.serverRecorder.autoConsume = true
        let last = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
        pair.client.send(streamID: last, [UInt8](repeating: 2, count: 100_000))
        pair.client.finish(streamID: last)
        try pair.pump()
        #expect(pair.serverRecorder.body(last).count == 100_000)
    }

    @Test func scannerAttributesEveryByteExactlyOnce() throws {
        let pair = Pair()
        var ids: [Int32] = []
        for i in 0..<5 {
            let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
            pair.client.send(streamID: id, [UInt8](repeating: UInt8(i), count: 1000 * (i + 1)))
            pair.client.finish(streamID: id)
            ids.append(id)
        }
        pair.serverRecorder.onEvent = { session, event in
            guard case .endStream(let streamID) = event else { return }
            try? session.submitResponse(streamID: streamID, [HTTP2HeaderField(":status", "200")], endStream: false)
            session.send(streamID: streamID, [UInt8](repeating: 0, count: 100))
            session.finish(streamID: streamID, trailers: [HTTP2HeaderField("grpc-status", "0")])
        }
        try pair.pump()
        #expect(pair.runsToServer.reduce(0) { $0 + $1.count } == pair.bytesToServer)
        #expect(pair.runsToClient.reduce(0) { $0 + $1.count } == pair.bytesToClient)
        #expect(pair.runsToServer.first == HTTP2ByteRun(streamID: 0, frameType: 0, part: .preface, count: 24))
        for (i, id) in ids.enumerated() {
            let data = pair.runsToServer.filter {
                $0.streamID == UInt32(id) && $0.frameType == HTTP2FrameType.data && $0.part == .payload
            }
            #expect(data.reduce(0) { $0 + $1.count } == 1000 * (i + 1))
        }
    }

    @Test func scannerHandlesEverySplitOfTheStream() throws {
        let pair = Pair()
        let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
        pair.client.send(streamID: id, [UInt8](repeating: 3, count: 300))
        pair.client.finish(streamID: id)
        var bytes: [UInt8] = []
        try pair.client.drainOutput(into: &bytes)
        var whole = HTTP2FrameScanner(expectsPreface: true)
        var expected: [UInt32: Int] = [:]
        bytes.withUnsafeBytes { whole.scan($0) { expected[$0.streamID, default: 0] += $0.count } }
        for cut in stride(from: 0, through: bytes.count, by: 1) {
            var scanner = HTTP2FrameScanner(expectsPreface: true)
            var totals: [UInt32: Int] = [:]
            bytes[..<cut].withUnsafeBytes { scanner.scan($0) { totals[$0.streamID, default: 0] += $0.count } }
            bytes[cut...].withUnsafeBytes { scanner.scan($0) { totals[$0.streamID, default: 0] += $0.count } }
            #expect(totals == expected, "cut at \(cut)")
        }
        #expect(expected[UInt32(id)]! > 300)
    }

    @Test func badPrefaceIsFatal() {
        let session = HTTP2Session(role: .server, delegate: nil)
        #expect(throws: HTTP2Error.self) {
            try Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8).withUnsafeBytes { try session.receive($0) }
        }
    }
}
