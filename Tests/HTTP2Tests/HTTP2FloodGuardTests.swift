// The flood budgets: the token bucket, which frames count, and a server session answering floods with
// GOAWAY(ENHANCE_YOUR_CALM).

import Testing

@testable import HTTP2

@Suite struct TokenBucketTests {
    @Test func burstThenRefillAtTheRateCappedAtTheBurst() {
        var bucket = TokenBucket(burst: 3, ratePerSecond: 2)
        #expect((0..<4).map { _ in bucket.take(at: 0) } == [true, true, true, false])
        #expect(bucket.take(at: 400_000_000) == false, "0.8 tokens after 0.4 s")
        #expect(bucket.take(at: 500_000_000) == true, "1 token after 0.5 s")
        // An hour later the bucket holds the burst, not 7,200 tokens.
        let later: UInt64 = 3_600_000_000_000
        #expect((0..<4).map { _ in bucket.take(at: later) } == [true, true, true, false])
        #expect(bucket.take(at: later - 1) == false, "a clock going backwards adds nothing")
    }
}

@Suite struct HTTP2FloodGuardTests {
    private static let ack: UInt8 = 0x1
    private static let endStream: UInt8 = 0x1

    /// (type, flags, length, counts as a control frame)
    static let frames: [(UInt8, UInt8, Int, Bool)] = [
        (HTTP2FrameType.ping, 0, 8, true),
        (HTTP2FrameType.ping, ack, 8, false),
        (HTTP2FrameType.settings, 0, 6, true),
        (HTTP2FrameType.settings, ack, 0, false),
        (HTTP2FrameType.priority, 0, 5, true),
        (HTTP2FrameType.data, 0, 0, true),
        (HTTP2FrameType.data, endStream, 0, false),
        (HTTP2FrameType.data, 0, 100, false),
        (HTTP2FrameType.headers, 0, 30, false),
        (HTTP2FrameType.windowUpdate, 0, 4, false),
        (HTTP2FrameType.goaway, 0, 8, false),
    ]

    @Test(arguments: frames)
    func whichFramesSpendTheControlBudget(type: UInt8, flags: UInt8, length: Int, counts: Bool) {
        var limits = HTTP2FloodLimits()
        limits.controlFrameBurst = 2
        limits.controlFramesPerSecond = 0
        var guardian = HTTP2FloodGuard(limits: limits)
        let results = (0..<3).map { _ in guardian.received(type: type, flags: flags, length: length, at: 0) }
        #expect(results == (counts ? [nil, nil, .controlFrames] : [nil, nil, nil]))
    }

    @Test func resetsFromThePeerAndResetsWeHadToSendShareTheResetBudget() {
        var limits = HTTP2FloodLimits()
        limits.streamResetBurst = 3
        limits.streamResetsPerSecond = 0
        var guardian = HTTP2FloodGuard(limits: limits)
        #expect(guardian.received(type: HTTP2FrameType.rstStream, flags: 0, length: 4, at: 0) == nil)
        #expect(guardian.sentReset(errorCode: HTTP2ErrorCode.noError, at: 0) == nil, "our own NO_ERROR is free")
        #expect(guardian.sentReset(errorCode: HTTP2ErrorCode.protocolError, at: 0) == nil)
        #expect(guardian.received(type: HTTP2FrameType.rstStream, flags: 0, length: 4, at: 0) == nil)
        #expect(guardian.received(type: HTTP2FrameType.rstStream, flags: 0, length: 4, at: 0) == .streamResets)
        #expect(guardian.received(type: HTTP2FrameType.ping, flags: 0, length: 8, at: 0) == nil,
                "the control budget is separate")
    }
}

@Suite struct HTTP2SessionFloodTests {
    /// A PING frame (9-byte header, 8 bytes of opaque data).
    static func ping(_ n: UInt8) -> [UInt8] {
        [0, 0, 8, HTTP2FrameType.ping, 0, 0, 0, 0, 0] + [UInt8](repeating: n, count: 8)
    }

    @Test func aPingFloodInOneReadIsAnsweredWithEnhanceYourCalmAndTheRestIgnored() throws {
        let server = HTTP2Session(role: .server, delegate: nil)
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, HTTP2FrameType.settings, 0, 0, 0, 0, 0]
        let flood = preface + (0..<1000).flatMap { Self.ping(UInt8($0 % 256)) }
        try flood.withUnsafeBytes { try server.receive($0) }
        #expect(server.flood == .controlFrames)
        var output: [UInt8] = []
        try server.drainOutput(into: &output, limit: 1 << 20)
        var scanner = HTTP2FrameScanner(expectsPreface: false)
        var headers: [HTTP2ByteRun] = []
        output.withUnsafeBytes { scanner.scan($0) { if $0.part == .frameHeader { headers.append($0) } } }
        let goaway = try #require(output.lastRange(ofFrameType: HTTP2FrameType.goaway))
        // GOAWAY payload: last stream id (4 bytes), then the error code (4 bytes).
        #expect(Array(output[(goaway.lowerBound + 13)..<(goaway.lowerBound + 17)]) == [0, 0, 0, 11])
        #expect(headers.filter { $0.frameType == HTTP2FrameType.ping }.count <= 100, "at most the burst answered")
        #expect(!server.wantsRead, "no more input is read")
    }

    @Test func rapidResetEndsTheSessionAfterTheResetBurst() throws {
        let pair = Pair()
        for _ in 0..<150 where pair.server.flood == nil {
            // HEADERS out first (a stream reset before its HEADERS were sent never reaches the wire), then RST_STREAM.
            let id = try pair.client.submitRequest(Pair.requestHeaders, endStream: false)
            try pair.pump()
            pair.client.reset(streamID: id, errorCode: HTTP2ErrorCode.cancel)
            try pair.pump()
        }
        #expect(pair.server.flood == .streamResets)
        #expect(pair.clientRecorder.events.contains(.goaway(HTTP2ErrorCode.enhanceYourCalm)))
        let requests = pair.serverRecorder.events.filter { if case .headers = $0 { true } else { false } }
        #expect(requests.count <= 101, "no stream is opened after the flood: \(requests.count)")
    }

    @Test func aClientThatPingsNowAndThenIsNotAFlood() throws {
        let pair = Pair()
        for _ in 0..<50 {
            pair.client.submitPing()
            try pair.pump()
        }
        #expect(pair.server.flood == nil)
        #expect(pair.server.wantsRead)
    }
}

extension Array where Element == UInt8 {
    /// The byte range of the last frame of `type` in a sequence of whole frames.
    func lastRange(ofFrameType type: UInt8) -> Range<Int>? {
        var offset = 0
        var found: Range<Int>?
        while offset + 9 <= count {
            let length = Int(self[offset]) << 16 | Int(self[offset + 1]) << 8 | Int(self[offset + 2])
            if self[offset + 3] == type { found = offset..<(offset + 9 + length) }
            offset += 9 + length
        }
        return found
    }
}
