import Testing

@testable import EventIO
@testable import TLS

/// What a hostile or broken client sends the server side: refused at the record header where possible, always
/// closed, never opened to the handler, and every byte still booked.
@Suite struct TLSHostileInputTests {
    /// A server TLSTransport over an InMemoryTransport, started, with a recording handler.
    static func makeServer(loop: EventLoop, context: TLSContext, timeout: Duration = .seconds(60)) throws -> (
        TLSTransport, InMemoryTransport, Recorder
    ) {
        let wire = InMemoryTransport(loop: loop, handler: Placeholder())
        let server = try TLSTransport(server: wire, context: context)
        let app = Recorder()
        server.handler = app
        server.start(handshakeTimeout: timeout)
        return (server, wire, app)
    }

    static let hostileInputs: [(String, [UInt8])] = [
        // type 22 (handshake), version 2.0, length 5
        ("record version 2.0", [0x16, 0x02, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5]),
        // type 22, version 3.1, length 18433: one over the limit, refused at the header
        ("record of 18433 bytes", [0x16, 0x03, 0x01, 0x48, 0x01]),
        // type 22, version 3.1, length 65535
        ("record of 65535 bytes", [0x16, 0x03, 0x01, 0xff, 0xff, 0x01]),
        ("plaintext HTTP", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
        // type 23 (application data) before any handshake, length 5
        ("application data first", [0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5]),
        // type 22, length 4: a ClientHello (1) of length 0
        ("empty ClientHello", [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]),
        // type 22, length 0, 40 times: OpenSSL skips up to 32 empty records in a row, then refuses
        ("40 empty handshake records", Array(repeating: [0x16, 0x03, 0x01, 0x00, 0x00] as [UInt8], count: 40).flatMap { $0 }),
        // type 24: not a TLS content type
        ("content type 24", [0x18, 0x03, 0x03, 0x00, 0x01, 0x00]),
    ]

    @Test(arguments: hostileInputs.indices)
    func garbageClosesTheServerSide(index: Int) throws {
        let (name, bytes) = Self.hostileInputs[index]
        let context = try makeServerContext()
        try onLoop { loop in
            let (server, wire, app) = try Self.makeServer(loop: loop, context: context)
            wire.receive(bytes)
            #expect(wire.isClosed, "\(name)")
            #expect(server.isClosed && server.handshakeFailure != nil, "\(name)")
            #expect(app.openCount == 0 && app.received.isEmpty, "\(name)")
            #expect(server.bytesRead == 0, "\(name)")
            expectExactAccounting(server, wire, app, name)
        }
    }

    @Test func anEmptyRecordIsSkipped() throws {
        let context = try makeServerContext()
        try onLoop { loop in
            let (server, wire, _) = try Self.makeServer(loop: loop, context: context)
            wire.receive([0x16, 0x03, 0x01, 0x00, 0x00])
            #expect(!wire.isClosed && server.handshakeFailure == nil && server.byteCounts.handshakeIn == 5)
            server.close()
        }
    }

    @Test func aRecordOfExactlyTheLimitIsAwaited() throws {
        let context = try makeServerContext()
        try onLoop { loop in
            let (server, wire, _) = try Self.makeServer(loop: loop, context: context)
            wire.receive([0x16, 0x03, 0x01, 0x48, 0x00])  // 18432 bytes announced: allowed, so wait for them
            #expect(!wire.isClosed && server.handshakeFailure == nil)
            server.close()
        }
    }

    /// A ClientHello offering only TLS 1.1 (legacy_version 3.2, no supported_versions extension): the server
    /// answers with a protocol_version alert and closes.
    @Test func aTLS11OnlyClientGetsAProtocolVersionAlert() throws {
        let body: [UInt8] =
            [0x03, 0x02]  // client_version TLS 1.1
            + pattern(count: 32)  // random
            + [0x00]  // session id: empty
            + [0x00, 0x04, 0x00, 0x2f, 0x00, 0x35]  // cipher suites: AES128-SHA, AES256-SHA
            + [0x01, 0x00]  // compression: null
        let handshake: [UInt8] = [0x01, 0x00, 0x00, UInt8(body.count)] + body  // ClientHello
        let record: [UInt8] = [0x16, 0x03, 0x01, 0x00, UInt8(handshake.count)] + handshake
        let context = try makeServerContext()
        try onLoop { loop in
            let (server, wire, app) = try Self.makeServer(loop: loop, context: context)
            wire.receive(record)
            let answer = wire.takeOutput()
            // alert record: type 21, version, length 2, level fatal (2), protocol_version (70)
            #expect(answer.count == 7 && answer.first == 0x15 && Array(answer.suffix(2)) == [0x02, 70])
            #expect(wire.isClosed && server.handshakeFailure != nil && app.openCount == 0)
            expectExactAccounting(server, wire, app, "server")
        }
    }

    /// Half a ClientHello, then silence: the handshake timeout (a real timer on the loop) closes.
    @Test func aStalledHandshakeTimesOut() throws {
        let (serverContext, clientContext) = (try makeServerContext(), try makeClientContext())
        try runLoop { loop in
            let pair = try TLSPair(
                loop: loop, server: serverContext, client: clientContext, handshakeTimeout: .milliseconds(100))
            let hello = pair.clientWire.takeOutput()
            #expect(hello.count > 100)
            pair.serverWire.receive(hello[..<60])
            #expect(!pair.serverWire.isClosed)
            loop.schedule(after: .milliseconds(400)) {
                defer { loop.stop() }
                #expect(pair.serverWire.isClosed)
                #expect(pair.server.didHandshakeTimeOut && pair.server.handshakeFailure != nil)
                #expect(pair.server.handshakeFailure?.description.contains("did not finish") == true)
                #expect(pair.serverApp.openCount == 0)
                expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
                pair.closeBoth()
            }
        }
    }
}
