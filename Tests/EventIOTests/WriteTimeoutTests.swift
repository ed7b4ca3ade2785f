// The write timeout: a peer that stops reading is cut off; a slow reader that keeps reading is not; input does not
// count as progress.

import Glibc
import Testing

@testable import EventIO

extension SocketSuite {
    @Suite struct WriteTimeoutTests {
        /// Writes `count` bytes as soon as the connection opens, with a 300 ms write timeout.
        final class Flooder: RecordingHandler {
            static let count = 32 << 20
            override func connectionDidOpen(_ connection: any ByteTransport) {
                connection.writeTimeout = .milliseconds(300)
                connection.write([UInt8](repeating: 7, count: Self.count))
            }
        }

        private func serve() throws -> (EventLoopGroup, TCPListener, Shared<[ClosedConnection]>) {
            let closures = Shared<[ClosedConnection]>([])
            let group = try EventLoopGroup(loopCount: 1, name: "srv")
            let listener = try TCPListener(bindingTo: loopbackAnyPort, on: group.loops[0]) {
                Flooder(closures: closures)
            }
            return (group, listener, closures)
        }

        @Test func aPeerThatNeverReadsIsClosedAfterTheWriteTimeoutEvenWhileItKeepsSending() throws {
            let (group, listener, closures) = try serve()
            defer { group.shutdownGracefully() }
            let client = try RawClient.connect(to: listener.localAddress)
            defer { close(client) }
            // The client sends a byte every 50 ms but reads nothing: input is not write progress.
            for _ in 0..<40 where closures.value.isEmpty {
                RawClient.send(client, [1])
                usleep(50_000)
            }
            #expect(waitUntil(timeout: .seconds(5)) { closures.value.count == 1 })
            let record = try #require(closures.value.first)
            #expect(record.reason == .writeTimedOut)
            #expect(record.bytesWritten < UInt64(Flooder.count), "the kernel took part of it, not all")
            #expect(record.received > 0)
        }

        @Test func aSlowReaderThatKeepsReadingIsNotClosed() throws {
            let (group, listener, closures) = try serve()
            defer { group.shutdownGracefully() }
            let client = try RawClient.connect(to: listener.localAddress)
            defer { close(client) }
            // Reads a little every 100 ms (a third of the timeout) until it has everything.
            var total = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 20)
            while total < Flooder.count {
                let got = recv(client, &chunk, chunk.count, 0)
                guard got > 0 else { break }
                total += got
                #expect(closures.value.isEmpty, "closed after \(total) bytes although the client kept reading")
                if total < 4 << 20 { usleep(100_000) }  // slow for the first 4 MiB, then quickly to the end
            }
            #expect(total == Flooder.count)
            #expect(closures.value.isEmpty)
        }
    }
}
