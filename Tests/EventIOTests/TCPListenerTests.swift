// The listener: spreading connections over a group, closing, and leaving no descriptor behind at shutdown.

import Glibc
import Testing

@testable import EventIO

extension SocketSuite {
    @Suite struct TCPListenerTests {
        @Test func acceptedConnectionsAreSpreadRoundRobinAndShutdownClosesEverything() async {
            // In a process of its own, so descriptors opened by tests running meanwhile are not counted.
            await #expect(processExitsWith: .success) {
                let descriptorsBefore = ProcessProbe.eventIODescriptorCount()
                let closures = Shared<[ClosedConnection]>([])
                let group = try EventLoopGroup(loopCount: 2)
                let listener = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0], distributingTo: group) {
                    RecordingHandler(closures: closures)
                }
                var clients: [Int32] = []
                for _ in 0..<20 { clients.append(try RawClient.connect(to: listener.localAddress)) }
                let counts = { try group.loops.map { loop in try onLoop(loop) { loop.connectionCount } } }
                #expect(waitUntil { (try? counts()) == [10, 10] })
                // 2 loops × (epoll + eventfd) + listener + 20 accepted + 20 clients.
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore + 4 + 1 + 40)

                group.shutdownGracefully()
                #expect(closures.value.count == 20)
                #expect(closures.value.allSatisfy { $0.reason == .loopStopped })
                for client in clients { close(client) }
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore, "no descriptor leaked")

            }
        }

        @Test func closeStopsAccepting() throws {
            let group = try EventLoopGroup(loopCount: 1)
            defer { group.shutdownGracefully() }
            let closures = Shared<[ClosedConnection]>([])
            let listener = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0]) {
                RecordingHandler(closures: closures)
            }
            close(try RawClient.connect(to: listener.localAddress))
            listener.close()
            listener.close()
            _ = try onLoop(group.loops[0]) { 0 }  // the close ran
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            let status = try listener.localAddress.withSockAddr { pointer, length in connect(fd, pointer, length) }
            #expect(status == -1 && errno == ECONNREFUSED)
        }

        @Test func bindingAPortInUseFailsAtOnce() throws {
            let group = try EventLoopGroup(loopCount: 1)
            defer { group.shutdownGracefully() }
            let first = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0]) {
                RecordingHandler(closures: Shared([]))
            }
            #expect(throws: SystemError(call: "bind", errno: EADDRINUSE)) {
                _ = try TCPListener(bindingTo: first.localAddress, on: group.loops[0]) {
                    RecordingHandler(closures: Shared([]))
                }
            }
        }

        @Test func listensOnIPv6Loopback() throws {
            let group = try EventLoopGroup(loopCount: 1)
            defer { group.shutdownGracefully() }
            let closures = Shared<[ClosedConnection]>([])
            let listener = try TCPListener(bindingTo: try SocketAddress(parsing: "[::1]:0"), on: group.loops[0]) {
                EchoHandler(closures: closures)
            }
            #expect(listener.localAddress.isIPv6 && listener.localAddress.port != 0)
            let client = try RawClient.connect(to: listener.localAddress)
            RawClient.send(client, Array("v6".utf8))
            #expect(RawClient.read(client, count: 2) == Array("v6".utf8))
            close(client)
            #expect(waitUntil { closures.value.count == 1 })
        }
    }
}
