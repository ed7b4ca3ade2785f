import Testing

@testable import EventIO
@testable import TLS

/// A full handshake between our client and server, then plaintext both ways: intact whatever its size and however
/// the ciphertext is cut, every ciphertext byte booked once, backpressure kept.
@Suite struct TLSTransportTests {
    @Test func fullHandshakeAgreesOnH2AndCarriesPlaintextBothWays() throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            #expect(!pair.client.isHandshakeComplete && pair.clientApp.openCount == 0, "nothing opens before")
            pair.pump()
            #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
            #expect(pair.client.handshakeKind == .full && pair.server.handshakeKind == .full)
            #expect(pair.client.applicationProtocol == "h2" && pair.server.applicationProtocol == "h2")
            #expect(pair.clientApp.openCount == 1 && pair.serverApp.openCount == 1)
            #expect(pair.server.pskIdentity == nil && pair.client.handshakeFailure == nil)

            let hello = Array("hello, collector".utf8)
            pair.client.write(hello)
            pair.pump()
            #expect(pair.serverApp.received == hello)

            // 100 KB: seven records of at most 16 KiB of plaintext each.
            let large = pattern(count: 100_000)
            pair.server.write(large)
            let ciphertext = pair.serverWire.takeOutput()
            #expect(ciphertext.count > large.count + 7 * 5 && ciphertext.count < large.count + 7 * 40)
            pair.clientWire.receive(ciphertext)
            #expect(pair.clientApp.received == large)

            // Ciphertext arriving one byte at a time.
            let trickle = pattern(count: 3_000, from: 17)
            pair.client.write(trickle)
            pair.pump(chunk: 1)
            #expect(pair.serverApp.received == hello + trickle)
            #expect(pair.serverApp.offers.allSatisfy { $0 > 0 }, "no empty offers")
            pair.closeBoth()
        }
    }

    /// Windows: nil (the peer takes everything at once), and small ones, so ciphertext leaves in partial writes and
    /// records are booked part by part.
    @Test(arguments: [nil, 700, 5_000] as [Int?])
    func everyCiphertextByteIsBookedOnceAfterClose(window: Int?) throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext, windows: window)
            pair.pump(chunk: 1_000)
            #expect(pair.client.isHandshakeComplete && pair.server.isHandshakeComplete)
            let request = pattern(count: 5_000)
            let response = pattern(count: 100_000, from: 3)
            pair.client.write(request)
            pair.server.write(response)
            pair.client.write(Array("ok".utf8))
            pair.pump(chunk: 999)
            #expect(pair.serverApp.received == request + Array("ok".utf8))
            #expect(pair.clientApp.received == response)
            // The client closes with close_notify; the server's handler hears the end and closes lingering.
            pair.client.closeLingering()
            pair.pump()
            #expect(pair.serverApp.hasInputEnded)
            pair.closeBoth()
            #expect(pair.clientWire.isClosed && pair.serverWire.isClosed)
            expectExactAccounting(pair.client, pair.clientWire, pair.clientApp, "client")
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
            #expect(pair.client.bytesWritten == 5_002 && pair.server.bytesRead == 5_002)
            #expect(pair.server.bytesWritten == 100_000 && pair.client.bytesRead == 100_000)
        }
    }

    @Test func accountingIsExactWhenAPartialRecordIsLeftAtClose() throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            pair.pump()
            pair.client.write(pattern(count: 500))
            let record = pair.clientWire.takeOutput()
            pair.serverWire.receive(record[..<100])  // a partial record, never completed
            pair.closeBoth()
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
            #expect(pair.server.bytesRead == 0)
        }
    }

    /// A handler that closes while a record's plaintext is being delivered (a bad request answered by closing):
    /// the record is booked once, by the close.
    @Test(arguments: [1, 3_000]) func accountingIsExactWhenTheHandlerClosesWhileReading(closeAfter: Int) throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            pair.pump()
            pair.serverApp.closeAfter = closeAfter
            pair.client.write(pattern(count: 2_000))
            pair.client.write(pattern(count: 2_000))
            pair.client.write(pattern(count: 2_000))
            pair.pump()
            #expect(pair.serverWire.isClosed && pair.serverApp.closeReason == .local)
            pair.closeBoth()
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
        }
    }

    @Test func plaintextLeftWhilePausedIsOfferedAgainAfterResume() throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try runLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            pair.pump()
            pair.serverApp.consumeLimit = 10
            pair.serverApp.pauseAfter = 10
            pair.client.write(pattern(count: 1_000))
            pair.pump()
            #expect(pair.server.isReadingPaused && pair.serverWire.isReadingPaused)
            #expect(pair.serverApp.received == pattern(count: 10))
            // More arrives while paused: it waits underneath, unread.
            pair.client.write(pattern(count: 500, from: 1_000))
            pair.pump()
            #expect(pair.serverApp.received.count == 10 && pair.serverApp.offers == [1_000])
            pair.serverApp.consumeLimit = nil
            pair.server.resumeReading()
            #expect(pair.serverApp.received.count == 10, "resumed input comes on the next iteration")
            loop.schedule(after: .milliseconds(20)) {
                defer { loop.stop() }
                #expect(pair.serverApp.received == pattern(count: 1_500))
                #expect(!pair.server.isReadingPaused && pair.server.plainUnconsumed.isEmpty)
                pair.closeBoth()
                expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
            }
        }
    }

    /// A handler that never consumes must not make the transport buffer without bound: like a socket connection,
    /// it is closed once `Connection.maxUnconsumedByteCount` bytes are left unconsumed.
    @Test func plaintextLeftUnconsumedIsBounded() throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            pair.pump()
            pair.serverApp.consumeLimit = 0
            for index in 0..<10 {
                pair.client.write(pattern(count: 16_384, from: index))
                pair.pump()
                #expect(pair.server.plainUnconsumed.count < Connection.maxUnconsumedByteCount)
            }
            #expect(pair.serverWire.isClosed)
            #expect(pair.serverApp.closeReason == .unconsumedInputLimit)
            #expect(pair.server.bytesRead == 4 * 16_384, "the fourth record reached the limit")
            pair.closeBoth()
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
        }
    }
}
