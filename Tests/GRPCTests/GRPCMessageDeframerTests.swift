import Testing
import GRPC

/// The 5-byte message framing: every split of the byte stream yields the same messages; limits and flags are
/// checked at the prefix, before anything is buffered.
@Suite struct GRPCMessageDeframerTests {
    static func collect(_ chunks: [[UInt8]], limit: Int = 1 << 20) throws -> [[UInt8]] {
        var deframer = GRPCMessageDeframer(maxMessageBytes: limit)
        var messages: [[UInt8]] = []
        for chunk in chunks {
            try chunk.withUnsafeBytes { buffer in
                try deframer.process(buffer) { (message: UnsafeRawBufferPointer) in messages.append(Array(message)) }
            }
        }
        try deframer.finish()
        return messages
    }

    /// Feeds `bytes` and returns the deframing error, if any.
    static func feed(_ deframer: inout GRPCMessageDeframer, _ bytes: [UInt8]) -> GRPCDeframeError? {
        do {
            try bytes.withUnsafeBytes { try deframer.process($0) { _ in } }
            return nil
        } catch let error as GRPCDeframeErrorOr<Never> {
            guard case .deframe(let deframeError) = error else { return nil }
            return deframeError
        } catch {
            return nil
        }
    }

    static let messages: [[UInt8]] = [[], [1], Array(0..<200), [7, 7, 7], Array(repeating: 9, count: 70_000)]
    static let stream: [UInt8] = messages.flatMap { GRPCMessageFramer.frame($0) }

    @Test func prefixIsFlagThenBigEndianLength() {
        #expect(GRPCMessageFramer.frame([0xAA, 0xBB]) == [0, 0, 0, 0, 2, 0xAA, 0xBB])
        #expect(GRPCMessageFramer.frame(Array(repeating: 0, count: 0x0102_03)).prefix(5) == [0, 0, 1, 2, 3])
    }

    @Test func wholeStreamInOneChunk() throws {
        #expect(try Self.collect([Self.stream]) == Self.messages)
    }

    @Test func everyTwoWaySplit() throws {
        let small = Self.messages.prefix(4).flatMap { GRPCMessageFramer.frame($0) }
        for cut in 0...small.count {
            #expect(try Self.collect([Array(small[..<cut]), Array(small[cut...])]) == Array(Self.messages.prefix(4)),
                    "cut at \(cut)")
        }
    }

    @Test func oneByteAtATime() throws {
        #expect(try Self.collect(Self.stream.map { [$0] }) == Self.messages)
    }

    @Test func randomChunking() throws {
        var seed: UInt64 = 5
        for _ in 0..<50 {
            var chunks: [[UInt8]] = []
            var i = 0
            while i < Self.stream.count {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let size = Int(seed >> 54) + 1
                chunks.append(Array(Self.stream[i..<min(i + size, Self.stream.count)]))
                i += size
            }
            #expect(try Self.collect(chunks) == Self.messages)
        }
    }

    @Test func refusesOversizedMessageAtThePrefix() {
        // Only the 5-byte prefix is sent: the refusal cannot depend on buffering the body.
        var whole = GRPCMessageDeframer(maxMessageBytes: 100)
        #expect(Self.feed(&whole, [0, 0, 0, 0, 101]) == .messageTooLarge(length: 101, limit: 100))
        var split = GRPCMessageDeframer(maxMessageBytes: 100)
        #expect(Self.feed(&split, [0, 0, 0]) == nil)
        let error = Self.feed(&split, [0, 101])
        #expect(error == .messageTooLarge(length: 101, limit: 100))
        #expect(error?.status.code == .resourceExhausted)
        #expect(split.bufferedBytes <= 5)
        var atLimit = GRPCMessageDeframer(maxMessageBytes: 100)
        #expect(Self.feed(&atLimit, GRPCMessageFramer.frame(Array(repeating: 1, count: 100))) == nil)
    }

    @Test(arguments: [(UInt8(1), GRPCDeframeError.compressedMessage), (2, .invalidFlag(2)), (0x80, .invalidFlag(0x80))])
    func refusesFlags(flag: UInt8, expected: GRPCDeframeError) {
        var deframer = GRPCMessageDeframer()
        #expect(Self.feed(&deframer, [flag, 0, 0, 0, 1, 42]) == expected)
    }

    @Test func endingInsideAMessageIsTruncation() throws {
        var deframer = GRPCMessageDeframer()
        try [UInt8]([0, 0, 0, 0, 10, 1, 2]).withUnsafeBytes { try deframer.process($0) { _ in } }
        #expect(throws: GRPCDeframeError.truncatedMessage(missingBytes: 8)) { try deframer.finish() }
        var prefixOnly = GRPCMessageDeframer()
        try [UInt8]([0, 0]).withUnsafeBytes { try prefixOnly.process($0) { _ in } }
        #expect(throws: GRPCDeframeError.truncatedMessage(missingBytes: 3)) { try prefixOnly.finish() }
    }

    struct Stop: Error {}

    @Test func handlerErrorsPassThrough() {
        var deframer = GRPCMessageDeframer()
        var caught: Stop?
        do {
            try GRPCMessageFramer.frame([1]).withUnsafeBytes { buffer in
                try deframer.process(buffer) { (_: UnsafeRawBufferPointer) throws(Stop) in throw Stop() }
            }
        } catch let error as GRPCDeframeErrorOr<Stop> {
            if case .handler(let stop) = error { caught = stop }
        } catch {}
        #expect(caught != nil)
    }
}
