// The connection limits: the counting rule on its own, then a listener refusing over-limit sockets at accept.

import Glibc
import Testing

@testable import EventIO

@Suite struct ConnectionAdmissionCountsTests {
    private let a = try! SocketAddress(parsing: "10.0.0.1:1").ip
    private let b = try! SocketAddress(parsing: "10.0.0.2:1").ip
    private let c = try! SocketAddress(parsing: "[2001:db8::1]:1").ip

    @Test func perAddressLimitRefusesOnlyThatAddress() {
        let limits = ConnectionLimits(maxConnections: 10, maxConnectionsPerAddress: 2)
        var counts = ConnectionAdmissionCounts(limits: limits)
        #expect(counts.admit(a) == nil)
        #expect(counts.admit(a) == nil)
        #expect(counts.admit(a) == .addressLimit)
        #expect(counts.admit(b) == nil, "another address is not affected")
        #expect(counts.admit(c) == nil)
        #expect(counts.openCount == 4 && counts.perAddress.count == 3)
        counts.release(a)
        #expect(counts.admit(a) == nil, "a closed connection gives its slot back")
        #expect(counts.admit(a) == .addressLimit)
    }

    @Test func totalLimitRefusesEveryAddressAndReleaseForgetsEmptyAddresses() {
        var counts = ConnectionAdmissionCounts(limits: ConnectionLimits(maxConnections: 3, maxConnectionsPerAddress: 3))
        #expect([a, b, c].map { counts.admit($0) } == [nil, nil, nil])
        #expect(counts.admit(a) == .totalLimit)
        #expect(counts.admit(b) == .totalLimit)
        for ip in [a, b, c] { counts.release(ip) }
        #expect(counts.openCount == 0 && counts.perAddress.isEmpty, "no entry stays behind for a gone address")
        counts.release(a)  // a stray release of an unknown address changes nothing
        #expect(counts.openCount == 0)
    }
}

extension SocketSuite {
    @Suite struct ConnectionLimiterSocketTests {
        /// Connects a blocking socket from `source` (a loopback IP) to `address`.
        private func connect(from source: String, to address: SocketAddress) throws -> Int32 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            let bound = try SocketAddress(parsing: "\(source):0").withSockAddr { bind(fd, $0, $1) }
            try #require(bound == 0, "bind errno \(errno)")
            let status = try address.withSockAddr { Glibc.connect(fd, $0, $1) }
            try #require(status == 0, "connect errno \(errno)")
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }

        /// True when the server closed the socket without sending anything (EOF or reset).
        private func isClosedByServer(_ fd: Int32) -> Bool {
            let (bytes, error) = RawClient.readToEnd(fd)
            return bytes.isEmpty && (error == 0 || error == ECONNRESET)
        }

        @Test func socketsOverALimitAreClosedAtAcceptAndSlotsComeBackOnClose() throws {
            let limiter = ConnectionLimiter(limits: ConnectionLimits(maxConnections: 4, maxConnectionsPerAddress: 2))
            let group = try EventLoopGroup(loopCount: 2, name: "srv")
            defer { group.shutdownGracefully() }
            let closures = Shared<[ClosedConnection]>([])
            let listener = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0], distributingTo: group,
                                           limiter: limiter) { RecordingHandler(closures: closures) }
            let address = listener.localAddress
            var held: [Int32] = []
            defer { for fd in held { close(fd) } }

            held += [try connect(from: "127.0.0.1", to: address), try connect(from: "127.0.0.1", to: address)]
            #expect(waitUntil { limiter.snapshot().openConnections == 2 })
            let third = try connect(from: "127.0.0.1", to: address)
            #expect(isClosedByServer(third), "the third from 127.0.0.1 is over the per-address limit")
            close(third)
            held += [try connect(from: "127.0.0.2", to: address), try connect(from: "127.0.0.2", to: address)]
            #expect(waitUntil { limiter.snapshot().openConnections == 4 }, "another address is still admitted")
            let fifth = try connect(from: "127.0.0.3", to: address)
            #expect(isClosedByServer(fifth), "a fifth from a new address is over the total limit")
            close(fifth)
            var snapshot = limiter.snapshot()
            #expect(snapshot.refusedOverAddress == 1 && snapshot.refusedOverTotal == 1)
            #expect(snapshot.lastRefusedPeer?.ipAddress == "127.0.0.3")
            #expect(closures.value.isEmpty, "refused sockets never reached a handler")

            // A held connection closes: its slot comes back, and a new one from that address is served.
            close(held.removeFirst())
            #expect(waitUntil { limiter.snapshot().openConnections == 3 })
            held.append(try connect(from: "127.0.0.1", to: address))
            #expect(waitUntil { limiter.snapshot().openConnections == 4 })
            snapshot = limiter.snapshot()
            #expect(snapshot.refusedOverAddress == 1 && snapshot.refusedOverTotal == 1 && snapshot.addresses == 2)
        }
    }
}
