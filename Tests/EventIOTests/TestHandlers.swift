// Connection handlers used by the socket tests. They live on loop threads and report to the test thread through
// `Shared` values only.

import Synchronization

@testable import EventIO

/// What a handler saw by the time its connection closed.
struct ClosedConnection: Sendable {
    var reason: CloseReason
    var bytesRead: UInt64
    var bytesWritten: UInt64
    /// Sums of the per-call `didRead` / `didWrite` reports.
    var reportedRead: Int
    var reportedWritten: Int
    var received: Int = 0
    var isIntact = true
    var drainCount = 0
}

/// The common bookkeeping: per-call byte reports and the close record.
class RecordingHandler: ConnectionHandler {
    let closures: Shared<[ClosedConnection]>
    var reportedRead = 0
    var reportedWritten = 0
    var received = 0
    var isIntact = true
    var drainCount = 0

    init(closures: Shared<[ClosedConnection]>) { self.closures = closures }

    // Declared here so subclasses can override them: a protocol extension's default is not dynamically dispatched
    // to a subclass.
    func connectionDidOpen(_ connection: any ByteTransport) {}
    func connectionInputDidEnd(_ connection: any ByteTransport) { connection.closeLingering() }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        received += input.count
        return input.count
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) { reportedRead += byteCount }
    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) { reportedWritten += byteCount }
    func connectionDidDrain(_ connection: any ByteTransport) { drainCount += 1 }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        let record = ClosedConnection(
            reason: reason, bytesRead: connection.bytesRead, bytesWritten: connection.bytesWritten,
            reportedRead: reportedRead, reportedWritten: reportedWritten, received: received, isIntact: isIntact,
            drainCount: drainCount)
        closures.update { $0.append(record) }
    }
}

/// Server side of the echo tests: sends back everything it receives.
final class EchoHandler: RecordingHandler {
    override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        connection.write(input)
        return super.connection(connection, didReceive: input)
    }
}

/// Client side of the echo tests: sends `payload` once connected, checks the echo byte by byte, closes when all
/// of it came back.
final class EchoClient: RecordingHandler {
    let payload: [UInt8]
    /// False when the test writes the payload itself (for example while still connecting).
    let sendsOnOpen: Bool

    init(payload: [UInt8], sendsOnOpen: Bool = true, closures: Shared<[ClosedConnection]>) {
        self.payload = payload
        self.sendsOnOpen = sendsOnOpen
        super.init(closures: closures)
    }

    override func connectionDidOpen(_ connection: any ByteTransport) {
        if sendsOnOpen { connection.write(payload) }
    }

    override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        for (offset, byte) in input.enumerated()
        where received + offset >= payload.count || payload[received + offset] != byte {
            isIntact = false
        }
        _ = super.connection(connection, didReceive: input)
        if received == payload.count { connection.close() }
        return input.count
    }
}

/// Checks that input follows the test pattern from offset 0.
final class PatternReader: RecordingHandler {
    override func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        for (offset, byte) in input.enumerated() where byte != patternByte(received + offset) {
            isIntact = false
        }
        return super.connection(connection, didReceive: input)
    }
}
