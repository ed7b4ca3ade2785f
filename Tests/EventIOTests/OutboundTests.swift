// Outbound connections the way the simulator uses them: writes before the connect finished, a chosen source IP,
// coalesced writes.

import Glibc
import Testing

@testable import EventIO

extension SocketSuite {
    @Suite struct OutboundTests {
        @Test func bytesWrittenWhileConnectingGoOutOnceConnected() throws {
            let rig = try Rig(serverLoops: 1) { EchoHandler(closures: $0) }
            defer { rig.shutdown() }
            let closures = Shared<[ClosedConnection]>([])
            let address = rig.listener.localAddress
            let loop = rig.clients.loops[0]
            let payload = pattern(count: 1000)
            let wasConnecting = try onLoop(loop) { () -> Bool in
                let client = EchoClient(payload: payload, sendsOnOpen: false, closures: closures)
                let connection = try loop.connect(to: address, handler: client)
                let connecting = connection.isConnecting
                #expect(connection.write(payload), "accepted and buffered while connecting")
                #expect(connection.outboundByteCount == 1000)
                return connecting
            }
            #expect(wasConnecting)
            #expect(waitUntil { closures.value.count == 1 })
            let record = try #require(closures.value.first)
            #expect(record.received == 1000 && record.isIntact && record.reason == .local)
            #expect(record.bytesWritten == 1000 && record.reportedWritten == 1000)
        }

        @Test func sourceAddressBindingPicksTheSourceIP() throws {
            let rig = try Rig(serverLoops: 1) { EchoHandler(closures: $0) }
            defer { rig.shutdown() }
            let observer = EarlyWriterBox()
            let address = rig.listener.localAddress
            let source = try SocketAddress(parsing: "127.0.0.2:0")
            let loop = rig.clients.loops[0]
            let local = try onLoop(loop) { () -> String in
                let connection = try loop.connect(to: address, from: source, handler: observer.makeHandler())
                return connection.localAddress?.ipAddress ?? "?"
            }
            #expect(local == "127.0.0.2")
            #expect(waitUntil { observer.remote.value.count == 1 })
            #expect(observer.remote.value == [address.description])
        }

        @Test func enqueueCoalescesIntoOneSend() throws {
            let rig = try Rig(serverLoops: 1) { RecordingHandler(closures: $0) }
            defer { rig.shutdown() }
            let writes = Shared<[Int]>([])
            final class Coalescer: RecordingHandler {
                let writes: Shared<[Int]>
                init(_ writes: Shared<[Int]>) {
                    self.writes = writes
                    super.init(closures: Shared([]))
                }
                override func connectionDidOpen(_ connection: any ByteTransport) {
                    for chunk in ["frame-1 ", "frame-2 ", "frame-3"] { connection.enqueue(chunk.utf8) }
                    #expect(connection.outboundByteCount == 23)
                    connection.flush()
                    connection.closeLingering()
                }
                override func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
                    writes.update { $0.append(byteCount) }
                }
            }
            rig.connect { Coalescer(writes) }
            #expect(waitUntil { rig.serverClosures.value.count == 1 })
            #expect(writes.value == [23], "three enqueued chunks went out in one send")
            #expect(rig.serverClosures.value.first?.received == 23)
        }
    }
}

/// Hands out `EarlyWriter`s that share one address log.
final class EarlyWriterBox: Sendable {
    let remote = Shared<[String]>([])
    func makeHandler() -> any ConnectionHandler {
        /// Records the remote address once connected.
        final class Recorder: ConnectionHandler {
            let remote: Shared<[String]>
            init(_ remote: Shared<[String]>) { self.remote = remote }
            func connectionDidOpen(_ connection: any ByteTransport) {
                let address = connection.remoteAddress?.description ?? "?"
                remote.update { $0.append(address) }
            }
            func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int { input.count }
        }
        return Recorder(remote)
    }
}
