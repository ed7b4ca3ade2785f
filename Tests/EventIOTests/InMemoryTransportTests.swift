import Testing

@testable import EventIO

/// The in-memory transport keeps the socket connection's rules, so handler tests on it mean what they would on a
/// socket: leftovers offered again, nothing read while paused, output held by the peer's window, drain once it
/// moves, lingering close after the last byte is taken.
@Suite struct InMemoryTransportTests {
    /// Consumes whole lines only; echoes each line back.
    final class LineEcho: ConnectionHandler {
        var events: [String] = []
        func connectionDidOpen(_ connection: any ByteTransport) { events.append("open") }
        func connection(_ connection: any ByteTransport, didRead byteCount: Int) { events.append("read \(byteCount)") }
        func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
            events.append("wrote \(byteCount)")
        }
        func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
            guard let end = input.lastIndex(of: UInt8(ascii: "\n")) else { return 0 }
            events.append("line " + String(decoding: input[..<end], as: UTF8.self) + "|")
            connection.write(UnsafeRawBufferPointer(rebasing: input[...end]))
            return end + 1
        }
        func connectionDidDrain(_ connection: any ByteTransport) { events.append("drain") }
        func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
            events.append("closed \(reason)")
        }
    }

    let group = try! EventLoopGroup(loopCount: 1, name: "fw-mem-test")
    var loop: EventLoop { group.loops[0] }

    @Test func leftoversAreOfferedAgainWithTheNextBytes() throws {
        let events = try onLoop(loop) { [loop] in
            let handler = LineEcho()
            let transport = InMemoryTransport(loop: loop, handler: handler)
            transport.open()
            transport.receive(Array("ab".utf8))
            transport.receive(Array("c\nd".utf8))
            #expect(transport.takeOutput() == Array("abc\n".utf8))
            #expect(transport.bytesRead == 5 && transport.bytesWritten == 4)
            return handler.events
        }
        #expect(events == ["open", "read 2", "read 3", "line abc|", "wrote 4"])
        group.shutdownGracefully()
    }

    @Test func outputWaitsForThePeersWindowThenDrains() throws {
        let totals = TransportByteTotals()
        let events = try onLoop(loop) { [loop] in
            let handler = LineEcho()
            let transport = InMemoryTransport(loop: loop, handler: handler, byteTotals: totals)
            transport.peerWindow = 3
            transport.receive(Array("hello\n".utf8))
            #expect(transport.outboundByteCount == 3)
            #expect(transport.takeOutput() == Array("hel".utf8))  // reading frees the window: the rest moves on
            #expect(transport.outboundByteCount == 0)
            #expect(transport.takeOutput() == Array("lo\n".utf8))
            return handler.events
        }
        #expect(events == ["read 6", "line hello|", "wrote 3", "wrote 3", "drain"])
        #expect(totals.bytesRead == 6 && totals.bytesWritten == 6)
        group.shutdownGracefully()
    }

    @Test func nothingIsReadWhilePausedAndLeftoversComeBackAfterResume() throws {
        let transport = try onLoop(loop) { [loop] in
            let handler = LineEcho()
            let transport = InMemoryTransport(loop: loop, handler: handler)
            transport.receive(Array("x".utf8))
            transport.pauseReading()
            transport.receive(Array("y\n".utf8))
            #expect(handler.events == ["read 1"], "paused: the bytes wait, unread")
            transport.resumeReading()
            #expect(handler.events == ["read 1"], "resumed input comes on the next iteration, not inside the call")
            return LoopBound(transport, on: loop)
        }
        let events = try onLoop(loop) { (transport.value.handler as? LineEcho)?.events ?? [] }
        #expect(events == ["read 1", "read 2", "line xy|", "wrote 3"])
        group.shutdownGracefully()
    }

    @Test func aLingeringCloseWaitsForTheLastByteToBeTaken() throws {
        let events = try onLoop(loop) { [loop] in
            let handler = LineEcho()
            let transport = InMemoryTransport(loop: loop, handler: handler)
            transport.peerWindow = 0
            transport.receive(Array("bye\n".utf8))
            transport.closeLingering()
            #expect(!transport.isClosed, "the answer is still waiting for the peer")
            transport.receive(Array("ignored\n".utf8))
            transport.peerWindow = 4
            #expect(transport.isClosed && transport.closeReason == .local)
            #expect(transport.takeOutput() == Array("bye\n".utf8))
            return handler.events
        }
        #expect(events == ["read 4", "line bye|", "read 8", "wrote 4", "drain", "closed closed locally"])
        group.shutdownGracefully()
    }

    @Test func theWriteTimeoutClosesAPeerThatNeverReads() throws {
        let reason = try onLoop(loop) { [loop] in
            let transport = InMemoryTransport(loop: loop, handler: LineEcho())
            transport.peerWindow = 0
            transport.receive(Array("stuck\n".utf8))
            transport.expireWriteTimeout()
            return transport.closeReason
        }
        #expect(reason == .writeTimedOut)
        group.shutdownGracefully()
    }
}
