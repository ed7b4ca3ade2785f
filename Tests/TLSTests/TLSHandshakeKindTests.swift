import Synchronization
import Testing

@testable import EventIO
@testable import TLS

/// Session resumption from a ticket and external PSKs: which handshake ran, on both sides, and refusals.
@Suite struct TLSHandshakeKindTests {
    /// A full handshake, a message each way (the server's ticket arrives), then a second connection resuming it.
    func resume(serverContext: TLSContext, clientContext: TLSContext) throws {
        try onLoop { loop in
            let first = try TLSPair(loop: loop, server: serverContext, client: clientContext)
            first.pump()
            first.client.write(Array("ping".utf8))
            first.pump()
            #expect(first.client.handshakeKind == .full)
            let session = try #require(first.client.receivedSession)
            #expect(session.isResumable)
            first.closeBoth()

            let second = try TLSPair(loop: loop, server: serverContext, client: clientContext, session: session)
            second.pump()
            #expect(second.server.handshakeFailure == nil && second.client.handshakeFailure == nil)
            #expect(second.client.handshakeKind == .resumed && second.server.handshakeKind == .resumed)
            #expect(second.server.pskIdentity == nil && second.server.refusedPSKIdentity == nil)
            #expect(second.clientHandshakeBytes < first.clientHandshakeBytes)
            second.client.write(Array("pong".utf8))
            second.pump()
            #expect(second.serverApp.received == Array("pong".utf8))
            second.closeBoth()
        }
    }

    @Test func aTicketResumesWithFewerHandshakeBytes() throws {
        try resume(serverContext: try makeServerContext(), clientContext: try makeClientContext())
    }

    /// The collector's configuration when devices have PSKs: tickets must still resume (a ticket is offered as a
    /// PSK identity too, and must not be taken for a refused device).
    @Test func aTicketResumesOnAServerThatAlsoTakesExternalPSKs() throws {
        let serverContext = try makeServerContext(externalPSK: { $0 == "dev1" ? devicePSK : nil })
        try resume(serverContext: serverContext, clientContext: try makeClientContext())
    }

    /// A binary identity is never taken for a device id: it gets a full handshake, not a refusal.
    /// Identities the server does not take as external PSKs (the collector's: not a device id) go on to ticket
    /// decryption and never reach the lookup; failing that, the handshake falls back to the certificate.
    @Test func anIdentityThatIsNotExternalIsNotLookedUp() throws {
        let looked = Mutex<[String]>([])
        let serverContext = try makeServerContext(
            externalPSK: { name in
                looked.withLock { $0.append(name) }
                return nil
            },
            isExternalIdentity: { !$0.contains("\u{0}") })
        let clientContext = try makeClientContext()
        try onLoop { loop in
            let pair = try TLSPair(
                loop: loop, server: serverContext, client: clientContext,
                psk: TLSExternalPSK(identity: "dev1\u{0}\u{1}", key: devicePSK))
            pair.pump()
            #expect(pair.server.handshakeKind == .full && pair.server.refusedPSKIdentity == nil)
            pair.closeBoth()
        }
        #expect(looked.withLock { $0 }.isEmpty)
    }

    @Test func anExternalPSKAuthenticatesTheDevice() throws {
        let serverContext = try makeServerContext(externalPSK: { $0 == "dev1" ? devicePSK : nil })
        let clientContext = try makeClientContext()
        try onLoop { loop in
            let pair = try TLSPair(
                loop: loop, server: serverContext, client: clientContext,
                psk: TLSExternalPSK(identity: "dev1", key: devicePSK))
            pair.pump()
            #expect(pair.client.handshakeKind == .psk && pair.server.handshakeKind == .psk)
            #expect(pair.server.pskIdentity == "dev1")
            #expect(pair.server.applicationProtocol == "h2")
            pair.client.write(Array("reading".utf8))
            pair.pump()
            #expect(pair.serverApp.received == Array("reading".utf8))
            #expect(pair.client.receivedSession == nil, "no ticket on PSK connections")
            pair.closeBoth()
            expectExactAccounting(pair.client, pair.clientWire, pair.clientApp, "client")
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
        }
    }

    enum Refusal: String, CaseIterable { case wrongKey, unknownIdentity }

    @Test(arguments: Refusal.allCases)
    func aRefusedPSKFailsTheHandshakeOnBothSides(refusal: Refusal) throws {
        let serverContext = try makeServerContext(externalPSK: { $0 == "dev1" ? devicePSK : nil })
        let clientContext = try makeClientContext()
        let psk =
            switch refusal {
            case .wrongKey: TLSExternalPSK(identity: "dev1", key: pattern(count: 32, from: 5))
            case .unknownIdentity: TLSExternalPSK(identity: "dev2", key: devicePSK)
            }
        try onLoop { loop in
            let pair = try TLSPair(loop: loop, server: serverContext, client: clientContext, psk: psk)
            var ended: [String] = []
            pair.server.onHandshakeEnd = { _ in ended.append("server") }
            pair.client.onHandshakeEnd = { _ in ended.append("client") }
            pair.pump()
            #expect(pair.server.handshakeFailure != nil && pair.client.handshakeFailure != nil)
            #expect(pair.serverWire.isClosed && pair.clientWire.isClosed)
            #expect(pair.server.isClosed && pair.client.isClosed)
            #expect(pair.serverApp.openCount == 0 && pair.clientApp.openCount == 0)
            #expect(pair.server.handshakeKind == nil && pair.server.pskIdentity == nil)
            #expect(ended.sorted() == ["client", "server"])
            if refusal == .unknownIdentity {
                #expect(pair.server.refusedPSKIdentity == "dev2")
                #expect(pair.server.handshakeFailure?.description.contains("dev2") == true)
            }
            expectExactAccounting(pair.client, pair.clientWire, pair.clientApp, "client")
            expectExactAccounting(pair.server, pair.serverWire, pair.serverApp, "server")
        }
    }
}
