// How connections end: peer close, reset, half-close, lingering close, idle timeout, and the descriptor-reuse
// guard when one connection closes in the middle of an event batch.

import Glibc
import Synchronization
import Testing

@testable import EventIO

/// A one-loop server whose handlers come from `makeHandler`, plus blocking raw clients.
private struct SingleLoopServer {
    let group: EventLoopGroup
    let listener: TCPListener

    init(makeHandler: @escaping @Sendable () -> any ConnectionHandler) throws {
        group = try EventLoopGroup(loopCount: 1, name: "srv")
        listener = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0], makeHandler: makeHandler)
    }

    var loop: EventLoop { group.loops[0] }
}

extension SocketSuite {
    @Suite struct ConnectionClosingTests {
        @Test func peerCloseIsReportedAsInputEndThenPeerClosed() throws {
            let closures = Shared<[ClosedConnection]>([])
            let inputEnded = Shared(0)
            final class Watcher: RecordingHandler {
                let inputEnded: Shared<Int>
                init(_ closures: Shared<[ClosedConnection]>, _ inputEnded: Shared<Int>) {
                    self.inputEnded = inputEnded
                    super.init(closures: closures)
                }
                override func connectionInputDidEnd(_ connection: any ByteTransport) {
                    inputEnded.update { $0 += 1 }
                    connection.closeLingering()
                }
            }
            let server = try SingleLoopServer { Watcher(closures, inputEnded) }
            defer { server.group.shutdownGracefully() }
            let client = try RawClient.connect(to: server.listener.localAddress)
            RawClient.send(client, Array("last words".utf8))
            close(client)
            #expect(waitUntil { closures.value.count == 1 })
            let record = try #require(closures.value.first)
            #expect(record.reason == .peerClosed)
            #expect(record.received == 10 && record.bytesRead == 10 && record.reportedRead == 10)
            #expect(inputEnded.value == 1)
        }

        @Test func resetByPeerIsAFailureWithECONNRESET() throws {
            let closures = Shared<[ClosedConnection]>([])
            let server = try SingleLoopServer { RecordingHandler(closures: closures) }
            defer { server.group.shutdownGracefully() }
            let client = try RawClient.connect(to: server.listener.localAddress)
            RawClient.send(client, [1, 2, 3])
            #expect(waitUntil { try! onLoop(server.loop) { server.loop.connectionCount } == 1 })
            usleep(20_000)
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
            close(client)
            #expect(waitUntil { closures.value.count == 1 })
            let reset = SystemError(call: "read", errno: ECONNRESET)
            #expect(closures.value.first?.reason == .failed(reset))
        }

        @Test func halfCloseKeepsTheOtherDirectionOpen() throws {
            /// Upper-cases what it reads; on the peer's FIN sends "!" and closes lingering.
            final class Shouter: RecordingHandler {
                override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
                    connection.write(input.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
                    return super.connection(connection, didReceive: input)
                }
                override func connectionInputDidEnd(_ connection: any ByteTransport) {
                    connection.write("!".utf8)
                    connection.closeLingering()
                }
            }
            let closures = Shared<[ClosedConnection]>([])
            let server = try SingleLoopServer { Shouter(closures: closures) }
            defer { server.group.shutdownGracefully() }
            let client = try RawClient.connect(to: server.listener.localAddress)
            defer { close(client) }
            RawClient.send(client, Array("hello".utf8))
            shutdown(client, Int32(SHUT_WR))
            let (reply, error) = RawClient.readToEnd(client)
            #expect(String(decoding: reply, as: UTF8.self) == "HELLO!")
            #expect(error == 0, "a clean FIN, not a reset")
            #expect(waitUntil { closures.value.count == 1 })
            #expect(closures.value.first?.reason == .peerClosed)
            #expect(closures.value.first?.bytesWritten == 6)
        }

        @Test func lingeringCloseLetsTheClientReadTheWholeFinalResponse() throws {
            let responseSize = 4 << 20
            /// Answers the first bytes with a large response, then closes lingering while the client still sends.
            final class FinalResponder: RecordingHandler {
                let responseSize: Int
                init(responseSize: Int, closures: Shared<[ClosedConnection]>) {
                    self.responseSize = responseSize
                    super.init(closures: closures)
                }
                override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
                    if received == 0 {
                        connection.write(pattern(count: responseSize))
                        connection.closeLingering()
                    }
                    return super.connection(connection, didReceive: input)
                }
            }
            let closures = Shared<[ClosedConnection]>([])
            let server = try SingleLoopServer { FinalResponder(responseSize: responseSize, closures: closures) }
            defer { server.group.shutdownGracefully() }
            let client = try RawClient.connect(to: server.listener.localAddress)
            // Closed once, below: a second close could hit a descriptor another test has reused.
            RawClient.send(client, Array("request".utf8))
            let head = RawClient.read(client, count: 1000)
            // More input the server will never look at: without lingering, closing on top of it sends an RST.
            let junk = [UInt8](repeating: 0x2A, count: 100_000)
            RawClient.send(client, junk)
            usleep(50_000)
            let (rest, error) = RawClient.readToEnd(client)
            #expect(error == 0, "the response ended with a FIN, not a reset")
            #expect(head + rest == pattern(count: responseSize))
            close(client)
            #expect(waitUntil { closures.value.count == 1 })
            let record = try #require(closures.value.first)
            #expect(record.reason == .local)
            #expect(record.received == 7, "after closeLingering nothing more is delivered")
            #expect(record.bytesRead == UInt64(7 + junk.count), "discarded bytes are still counted")
            #expect(record.reportedRead == 7 + junk.count)
        }

        @Test func lingeringCloseGivesUpAfterItsTimeout() throws {
            final class QuickLinger: RecordingHandler {
                override func connectionDidOpen(_ connection: any ByteTransport) {
                    connection.write("bye".utf8)
                    connection.closeLingering(timeout: .milliseconds(100))
                }
            }
            let closures = Shared<[ClosedConnection]>([])
            let server = try SingleLoopServer { QuickLinger(closures: closures) }
            defer { server.group.shutdownGracefully() }
            let client = try RawClient.connect(to: server.listener.localAddress)
            defer { close(client) }
            #expect(RawClient.read(client, count: 3) == Array("bye".utf8))
            // The client never closes; the server must not wait for it forever.
            #expect(waitUntil(timeout: .seconds(5)) { closures.value.count == 1 })
            #expect(closures.value.first?.reason == .local)
        }

        @Test func idleTimeoutClosesSilentConnectionsOnly() throws {
            final class Idler: RecordingHandler {
                override func connectionDidOpen(_ connection: any ByteTransport) {
                    connection.idleTimeout = .milliseconds(250)
                }
            }
            let closures = Shared<[ClosedConnection]>([])
            let server = try SingleLoopServer { Idler(closures: closures) }
            defer { server.group.shutdownGracefully() }
            let silent = try RawClient.connect(to: server.listener.localAddress)
            defer { close(silent) }
            let chatty = try RawClient.connect(to: server.listener.localAddress)
            defer { close(chatty) }
            let start = ContinuousClock.now
            // One byte every 25 ms for 750 ms: ten times more often than the timeout.
            for _ in 0..<30 {
                RawClient.send(chatty, [0])
                usleep(25_000)
            }
            #expect(closures.value.count == 1, "the silent one timed out, the chatty one did not")
            #expect(closures.value.first?.received == 0)
            #expect(ContinuousClock.now - start >= .milliseconds(250))
            #expect(waitUntil(timeout: .seconds(5)) { closures.value.count == 2 })
            #expect(closures.value.last?.received == 30)
        }

        @Test func eventsForAConnectionClosedMidBatchNeverReachTheConnectionThatReusedItsDescriptor() throws {
            let group = try EventLoopGroup(loopCount: 1)
            defer { group.shutdownGracefully() }
            let loop = group.loops[0]
            /// Whichever of the pair reads first closes its partner and adopts a fresh socket in its place.
            final class Pair {
                var members: [Connection] = []
                var replacement: (connection: Connection, fd: Int32, closedFD: Int32)?
                var replacementDeliveries = 0
            }
            final class Member: ConnectionHandler {
                let pair: Pair
                let peers: Shared<[Int32]>
                init(_ pair: Pair, _ peers: Shared<[Int32]>) {
                    self.pair = pair
                    self.peers = peers
                }
                func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
                    guard pair.replacement == nil, let partner = pair.members.first(where: { $0 !== connection }) else {
                        return input.count
                    }
                    let closedFD = partner.fd
                    partner.close()
                    let fds = makeSocketPair()
                    let watcher = Replacement(pair)
                    let adopted = connection.loop.adopt(socket: fds[0], handler: watcher)!
                    pair.replacement = (adopted, fds[0], closedFD)
                    peers.update { $0.append(fds[1]) }
                    return input.count
                }
            }
            final class Replacement: ConnectionHandler {
                let pair: Pair
                init(_ pair: Pair) { self.pair = pair }
                func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
                    pair.replacementDeliveries += 1
                    return input.count
                }
            }
            let peers = Shared<[Int32]>([])
            let pair = LoopBoundBox<Pair>()
            try onLoop(loop) {
                let shared = Pair()
                for _ in 0..<2 {
                    let fds = makeSocketPair()
                    shared.members.append(loop.adopt(socket: fds[0], handler: Member(shared, peers))!)
                    peers.update { $0.append(fds[1]) }
                }
                pair.set(LoopBound(shared, on: loop))
            }
            let staleBefore = try onLoop(loop) { loop.core.value.selector.staleEventCount }
            // Hold the loop busy while both peers write, so both sockets are reported in the same epoll_wait batch.
            let busy = Shared(false)
            let written = Shared(false)
            loop.execute {
                busy.update { $0 = true }
                waitUntil(timeout: .seconds(10)) { written.value }
            }
            #expect(waitUntil { busy.value })
            for peer in peers.value { _ = write(peer, "x", 1) }
            written.update { $0 = true }
            let bound = try #require(pair.value)
            #expect(waitUntil { (try? onLoop(loop) { bound.value.replacement != nil }) ?? false })
            usleep(50_000)
            let (reused, deliveries, stale) = try onLoop(loop) { () -> (Bool, Int, Int) in
                let shared = bound.value
                let replacement = shared.replacement!
                return (
                    replacement.fd == replacement.closedFD, shared.replacementDeliveries,
                    loop.core.value.selector.staleEventCount
                )
            }
            // The kernel hands out the lowest free number, so the replacement normally reuses the closed one; with
            // other suites opening descriptors in parallel it may not, and then only the other two checks apply.
            if !reused { print("note: descriptor not reused under parallel load; stale-event checks still run") }
            #expect(stale == staleBefore + 1, "the closed connection's pending event was dropped")
            #expect(deliveries == 0, "and never reached the replacement")
            for peer in peers.value { close(peer) }
        }
    }
}

/// A connected pair of non-blocking Unix stream sockets: [the end a loop adopts, the test's end].
private func makeSocketPair() -> [Int32] {
    var fds: [Int32] = [-1, -1]
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    precondition(socketpair(AF_UNIX, type, 0, &fds) == 0)
    return fds
}

/// Carries a `LoopBound` from a loop task back to the test thread.
final class LoopBoundBox<Value>: Sendable {
    private let storage = Mutex<LoopBound<Value>?>(nil)
    func set(_ bound: LoopBound<Value>) { storage.withLock { $0 = bound } }
    var value: LoopBound<Value>? { storage.withLock { $0 } }
}
