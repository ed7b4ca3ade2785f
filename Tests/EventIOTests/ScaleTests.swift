// Thousands of idle connections in one process: what each one costs in resident memory.
//
// Not a timing test. It prints the measured cost and asserts only generous bounds: the collector's budget is
// 64 MiB RSS for 10,000 idle devices, i.e. a few KiB per connection all included. It runs in a process of its own,
// so RSS (VmRSS, what the budget is about) is not blurred by other tests' heap; the heap figure (mallinfo2, all
// arenas) counts exactly what the connections allocated.

import CLinux
import Glibc
import Testing

@testable import EventIO

extension SocketSuite {
    @Suite struct ScaleTests {
        /// Accepted connections with raw kernel sockets as peers (the collector's view).
        static let connectionCount = 5000
        /// EventIO outbound connections, each with its accepted peer (the simulator's view); smaller so that all
        /// descriptors fit under a 20,000 hard limit.
        static let outboundCount = 2500

        @Test func fiveThousandIdleConnectionsCostLittleMemory() async throws {
            // In a process of its own: other tests' heap and descriptors would blur the figures.
            let child = try await #require(processExitsWith: .success, observing: [\.standardOutputContent]) {
                let limit = try ResourceLimits.raiseOpenFileLimit()
                try #require(
                    limit >= 2 * Self.connectionCount + 2 * Self.outboundCount + 100,
                    "RLIMIT_NOFILE hard limit too low: \(limit)")
                let closures = Shared<[ClosedConnection]>([])
                let server = try EventLoopGroup(loopCount: 2, name: "srv")
                let clients = try EventLoopGroup(loopCount: 2, name: "cli")
                defer {
                    clients.shutdownGracefully()
                    server.shutdownGracefully()
                }
                let listener = try TCPListener(bindingTo: loopbackAnyPort, on: server.loops[0], distributingTo: server)
                {
                    RecordingHandler(closures: closures)
                }
                let serverCount = { try server.loops.map { loop in try onLoop(loop) { loop.connectionCount } } }
                let clientCount = { try clients.loops.map { loop in try onLoop(loop) { loop.connectionCount } } }

                // Warm up allocator arenas on every thread involved, then take the baseline.
                var warmUp: [Int32] = []
                for _ in 0..<100 { warmUp.append(try RawClient.connect(to: listener.localAddress)) }
                #expect(waitUntil { (try? serverCount().reduce(0, +)) == 100 })
                for fd in warmUp { close(fd) }
                #expect(waitUntil { (try? serverCount().reduce(0, +)) == 0 && closures.value.count == 100 })
                malloc_trim(0)
                let baseline = MemorySnapshot()

                // Phase 1: the collector's side. Raw kernel sockets as peers, so only server-side objects grow.
                var peers: [Int32] = []
                for batch in stride(from: 0, to: Self.connectionCount, by: 500) {
                    for _ in 0..<500 { peers.append(try RawClient.startConnect(to: listener.localAddress)) }
                    #expect(waitUntil { (try? serverCount().reduce(0, +)) == batch + 500 })
                }
                let perLoop = try serverCount()
                #expect(perLoop == [Self.connectionCount / 2, Self.connectionCount / 2], "round robin over both loops")
                let afterServer = MemorySnapshot()

                // Phase 2: the simulator's side. EventIO outbound connections to the same server.
                let address = listener.localAddress
                for batch in stride(from: 0, to: Self.outboundCount, by: 500) {
                    for loop in clients.loops {
                        loop.execute {
                            for _ in 0..<250 {
                                _ = try? loop.connect(to: address, handler: RecordingHandler(closures: closures))
                            }
                        }
                    }
                    #expect(waitUntil { (try? clientCount().reduce(0, +)) == batch + 500 })
                    #expect(waitUntil { (try? serverCount().reduce(0, +)) == Self.connectionCount + batch + 500 })
                }
                let afterClients = MemorySnapshot()

                let accepted = afterServer.bytesPerItem(since: baseline, count: Self.connectionCount)
                let pair = afterClients.bytesPerItem(since: afterServer, count: Self.outboundCount)
                print(
                    "[EventIO scale] \(Self.connectionCount) idle accepted connections: \(accepted.heap) B heap,"
                        + " \(accepted.resident) B RSS each; \(Self.outboundCount) outbound connections with their accepted"
                        + " peers: \(pair.heap) B heap, \(pair.resident) B RSS per pair"
                        + " (RSS \(baseline.residentKiB) → \(afterServer.residentKiB) → \(afterClients.residentKiB) KiB)"
                )
                // Loose bounds that still catch a per-connection buffer (64 KiB each would show as ~65 KiB here).
                #expect(accepted.heap < 4096, "an idle accepted connection should cost a few hundred bytes")
                #expect(accepted.resident < 4096)
                #expect(pair.heap < 8192)
                #expect(closures.value.count == 100, "only the warm-up connections closed; no idle one was dropped")
                for fd in peers { close(fd) }

            }
            print(String(decoding: child.standardOutputContent, as: UTF8.self), terminator: "")
        }
    }
}

/// Resident and heap memory at one moment.
struct MemorySnapshot {
    let residentKiB = ProcessProbe.residentKiB()
    let heapBytes: Int = {
        let info = mallinfo2()
        return Int(info.uordblks + info.hblkhd)
    }()

    /// Growth since `earlier`, divided over `count` items, in bytes.
    func bytesPerItem(since earlier: MemorySnapshot, count: Int) -> (heap: Int, resident: Int) {
        ((heapBytes - earlier.heapBytes) / count, (residentKiB - earlier.residentKiB) * 1024 / count)
    }
}
