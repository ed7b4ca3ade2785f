// Connections over real loopback sockets: echo with exact byte counts, backpressure with partial writes,
// connect failures, pausing and resuming input.

import Glibc
import Synchronization
import Testing

@testable import EventIO

/// A server group with an echo-style listener, and a client group.
struct Rig {
    let server: EventLoopGroup
    let clients: EventLoopGroup
    let listener: TCPListener
    let serverClosures = Shared<[ClosedConnection]>([])

    init(serverLoops: Int = 2, makeHandler: @escaping @Sendable (Shared<[ClosedConnection]>) -> any ConnectionHandler)
        throws
    {
        server = try EventLoopGroup(loopCount: serverLoops, name: "srv")
        clients = try EventLoopGroup(loopCount: 2, name: "cli")
        let closures = serverClosures
        listener = try TCPListener(bindingTo: loopbackAnyPort, on: server.loops[0], distributingTo: server) {
            makeHandler(closures)
        }
    }

    /// Opens an outbound connection from the next client loop.
    func connect(_ makeHandler: @escaping @Sendable () -> any ConnectionHandler) {
        let loop = clients.next()
        let address = listener.localAddress
        loop.execute {
            do {
                _ = try loop.connect(to: address, handler: makeHandler())
            } catch {
                Issue.record("connect: \(error)")
            }
        }
    }

    func shutdown() {
        clients.shutdownGracefully()
        server.shutdownGracefully()
    }
}

extension SocketSuite {
    @Suite struct ConnectionTests {
        @Test func twoHundredEchoClientsGetTheirBytesBackAndBothSidesCountThemExactly() throws {
            let rig = try Rig { EchoHandler(closures: $0) }
            defer { rig.shutdown() }
            #expect(rig.listener.localAddress.port != 0, "port 0 reports the bound port")
            let clientClosures = Shared<[ClosedConnection]>([])
            var total = 0
            for index in 0..<200 {
                let size = 1 + (index * 7919) % 100_000
                total += size
                let payload = pattern(count: size, from: index)
                rig.connect { EchoClient(payload: payload, closures: clientClosures) }
            }
            #expect(waitUntil { clientClosures.value.count == 200 && rig.serverClosures.value.count == 200 })
            let clients = clientClosures.value
            let servers = rig.serverClosures.value
            #expect(clients.allSatisfy { $0.reason == .local && $0.isIntact })
            #expect(servers.allSatisfy { $0.reason == .peerClosed })
            for side in [clients, servers] {
                #expect(side.allSatisfy { $0.bytesRead == $0.bytesWritten })
                #expect(
                    side.allSatisfy {
                        Int($0.bytesRead) == $0.reportedRead && Int($0.bytesWritten) == $0.reportedWritten
                    })
                #expect(side.map { Int($0.bytesWritten) }.reduce(0, +) == total)
            }
            #expect(clients.map(\.received).reduce(0, +) == total)
        }

        @Test func eightMiBThroughASlowReaderUsesTheOutboundBufferAndArrivesIntact() throws {
            let size = 8 << 20
            let rig = try Rig(serverLoops: 1) { closures in
                BulkSender(size: size, closures: closures)
            }
            defer { rig.shutdown() }
            let clientClosures = Shared<[ClosedConnection]>([])
            rig.connect { SlowReader(closures: clientClosures) }
            #expect(
                waitUntil(timeout: .seconds(60)) {
                    clientClosures.value.count == 1 && rig.serverClosures.value.count == 1
                })
            let client = try #require(clientClosures.value.first)
            let server = try #require(rig.serverClosures.value.first)
            #expect(client.received == size && client.isIntact)
            #expect(client.reason == .peerClosed, "the sender's FIN after the drain ends the reader")
            #expect(server.bytesWritten == UInt64(size) && server.reportedWritten == size)
            #expect(server.drainCount >= 1, "the kernel pushed back, so EPOLLOUT had to finish the write")
            #expect(server.reason == .local)
        }

        @Test func connectToAClosedPortReportsConnectionRefused() throws {
            // Bind a port, then free it: nothing listens there now.
            let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try Socket.bind(probe, to: loopbackAnyPort)
            let address = try #require(try Socket.localAddress(probe))
            Syscall.close(probe)

            let group = try EventLoopGroup(loopCount: 1)
            defer { group.shutdownGracefully() }
            let outcome = Shared<[String]>([])
            final class Observer: ConnectionHandler {
                let outcome: Shared<[String]>
                init(_ outcome: Shared<[String]>) { self.outcome = outcome }
                func connectionDidOpen(_ connection: any ByteTransport) { outcome.update { $0.append("open") } }
                func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int { 0 }
                func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
                    outcome.update { $0.append("\(reason)") }
                }
            }
            let loop = group.loops[0]
            let wasConnecting = try onLoop(loop) {
                try loop.connect(to: address, handler: Observer(outcome)).isConnecting
            }
            #expect(wasConnecting, "the outcome is never reported from inside connect()")
            #expect(waitUntil { !outcome.value.isEmpty })
            usleep(20_000)
            let refused = CloseReason.connectFailed(SystemError(call: "connect", errno: ECONNREFUSED))
            #expect(outcome.value == ["\(refused)"])
        }

        @Test func pausedInputIsNotReadUntilResumedAndLeftoversAreOfferedAgain() throws {
            let server = try EventLoopGroup(loopCount: 1)
            defer { server.shutdownGracefully() }
            let deliveries = Shared<[String]>([])
            let connection = Shared<LoopBound<Connection>?>(nil)
            /// Consumes 4 bytes of the first delivery and pauses; consumes everything afterwards.
            final class Pauser: ConnectionHandler {
                let deliveries: Shared<[String]>
                let connection: Shared<LoopBound<Connection>?>
                init(_ deliveries: Shared<[String]>, _ connection: Shared<LoopBound<Connection>?>) {
                    self.deliveries = deliveries
                    self.connection = connection
                }
                func connectionDidOpen(_ connection: any ByteTransport) {
                    let bound = LoopBound(connection as! Connection, on: connection.loop)
                    self.connection.update { $0 = bound }
                }
                func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
                    deliveries.update { $0.append(String(decoding: input, as: UTF8.self)) }
                    if deliveries.value.count == 1 {
                        connection.pauseReading()
                        return 4
                    }
                    return input.count
                }
            }
            let listener = try TCPListener(bindingTo: loopbackAnyPort, on: server.loops[0]) {
                Pauser(deliveries, connection)
            }
            let client = try RawClient.connect(to: listener.localAddress)
            defer { close(client) }
            RawClient.send(client, Array("0123456789".utf8))
            #expect(waitUntil { deliveries.value.count == 1 })
            RawClient.send(client, Array("abc".utf8))
            usleep(100_000)
            #expect(deliveries.value == ["0123456789"], "paused: the new bytes stay in the kernel")
            let bound = try #require(connection.value)
            server.loops[0].execute { bound.value.resumeReading() }
            #expect(waitUntil { deliveries.value.joined().hasSuffix("abc") })
            // The leftovers "456789" come first, either alone (redelivery) or followed by the new bytes.
            let afterResume = deliveries.value.dropFirst().joined()
            #expect(afterResume.hasPrefix("456789"))
            #expect(afterResume.count == 9 || afterResume == "456789456789abc")
        }
    }
}

/// Writes `size` pattern bytes in one call as soon as the connection opens, and closes lingering once the
/// outbound buffer drained.
final class BulkSender: RecordingHandler {
    let size: Int
    init(size: Int, closures: Shared<[ClosedConnection]>) {
        self.size = size
        super.init(closures: closures)
    }
    override func connectionDidOpen(_ connection: any ByteTransport) {
        connection.write(pattern(count: size))
        if connection.outboundByteCount == 0 { connection.closeLingering() }
    }
    override func connectionDidDrain(_ connection: any ByteTransport) {
        super.connectionDidDrain(connection)
        connection.closeLingering()
    }
}

/// Reads slowly: starts paused for 100 ms, then pauses 5 ms after every 512 KiB.
final class SlowReader: RecordingHandler {
    private var nextPause = 512 << 10

    override func connectionDidOpen(_ connection: any ByteTransport) {
        connection.pauseReading()
        connection.loop.schedule(after: .milliseconds(100)) { connection.resumeReading() }
    }

    override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        for (offset, byte) in input.enumerated() where byte != patternByte(received + offset) {
            isIntact = false
        }
        let consumed = super.connection(connection, didReceive: input)
        if received >= nextPause {
            nextPause += 512 << 10
            connection.pauseReading()
            connection.loop.schedule(after: .milliseconds(5)) { connection.resumeReading() }
        }
        return consumed
    }
}
