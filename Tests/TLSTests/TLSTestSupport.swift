// The TLS tests' peer: a client TLSTransport and a server TLSTransport, each over its own InMemoryTransport, with
// the test moving ciphertext between the two (`takeOutput` → `receive`) and recording handlers on top. Everything
// runs on an event loop's thread, as every transport requires: a loop run on the test's own thread (`runLoop`).

import Glibc
import Testing

@testable import EventIO
@testable import TLS

/// Runs a new event loop on the test's own thread, with `body` as its first task, until the body (or a task it
/// scheduled) calls `loop.stop()`; then rethrows what the body threw. The loop runs here, not on a thread of its
/// own, so that expectations inside loop tasks are attributed to the running test.
func runLoop(_ body: @escaping (EventLoop) throws -> Void) throws {
    let loop = try EventLoop()
    let task = UncheckedBox(body)
    let failure = UncheckedBox<(any Error)?>(nil)
    loop.execute {
        do {
            try task.value(loop)
        } catch {
            failure.value = error
            loop.stop()
        }
    }
    loop.run()
    if let error = failure.value { throw error }
}

/// `runLoop` for a test that is one step: the loop stops when `body` returns.
func onLoop(_ body: @escaping (EventLoop) throws -> Void) throws {
    try runLoop { loop in
        defer { loop.stop() }
        try body(loop)
    }
}

/// Carries a value into a loop task that runs on the same thread (`runLoop`), where Sendable is not needed.
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// The test's pattern byte at `offset`: payloads check every byte's position, not just the count.
func pattern(count: Int, from offset: Int = 0) -> [UInt8] {
    (offset..<offset + count).map { UInt8(truncatingIfNeeded: $0 % 251) }
}

/// A fresh temporary directory.
func makeTemporaryDirectory() -> String {
    var template = Array("/tmp/fw-tls-test-XXXXXX".utf8CString)
    let path = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(path != nil, "mkdtemp failed")
    return String(cString: path!)
}

/// A self-signed certificate and its key, made once per test process.
struct TestCertificate: Sendable {
    let certificateFile: String
    let keyFile: String

    static let shared = make()

    /// A new certificate for localhost in a new temporary directory.
    static func make() -> TestCertificate {
        let directory = makeTemporaryDirectory()
        let certificate = TestCertificate(certificateFile: directory + "/cert.pem", keyFile: directory + "/key.pem")
        try! SelfSignedCertificate.create(
            certificateFile: certificate.certificateFile, keyFile: certificate.keyFile,
            hostNames: ["localhost", "127.0.0.1"])
        return certificate
    }
}

/// The PSK the tests' device "dev1" holds.
let devicePSK = pattern(count: 32, from: 99)

/// A server context on the shared certificate; `externalPSK` as given.
func makeServerContext(
    externalPSK: (@Sendable (String) -> [UInt8]?)? = nil,
    isExternalIdentity: @escaping @Sendable (String) -> Bool = { _ in true }
) throws -> TLSContext {
    var settings = TLSServerSettings(
        certificateFile: TestCertificate.shared.certificateFile, keyFile: TestCertificate.shared.keyFile)
    settings.externalPSK = externalPSK
    settings.isExternalIdentity = isExternalIdentity
    return try TLSContext(server: settings)
}

/// A client context trusting the shared certificate.
func makeClientContext() throws -> TLSContext {
    try TLSContext(client: TLSClientSettings(caFile: TestCertificate.shared.certificateFile))
}

/// The handler an InMemoryTransport starts with, until TLSTransport.start takes over.
final class Placeholder: ConnectionHandler {
    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int { input.count }
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {}
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {}
}

/// The plaintext handler on a TLSTransport: records what it saw; consumes, pauses and closes as the test sets.
final class Recorder: ConnectionHandler {
    var openCount = 0
    var received: [UInt8] = []
    /// The size of every offer, leftovers included.
    var offers: [Int] = []
    var reportedRead = 0
    var reportedWritten = 0
    var drainCount = 0
    var hasInputEnded = false
    var closeReason: CloseReason?
    /// Consumes at most this many bytes of each offer; nil: all of it.
    var consumeLimit: Int?
    /// Pauses reading once this many bytes were received (then forgets it).
    var pauseAfter: Int?
    /// Closes the connection once this many bytes were received (an HTTP handler answering 400 and closing).
    var closeAfter: Int?

    func connectionDidOpen(_ connection: any ByteTransport) { openCount += 1 }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        offers.append(input.count)
        let taken = min(input.count, consumeLimit ?? input.count)
        received.append(contentsOf: input[..<taken])
        if let pauseAfter, received.count >= pauseAfter {
            self.pauseAfter = nil
            connection.pauseReading()
        }
        if let closeAfter, received.count >= closeAfter { connection.close() }
        return taken
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) { reportedRead += byteCount }
    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) { reportedWritten += byteCount }
    func connectionDidDrain(_ connection: any ByteTransport) { drainCount += 1 }

    func connectionInputDidEnd(_ connection: any ByteTransport) {
        hasInputEnded = true
        connection.closeLingering()
    }

    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) { connection.close() }
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) { closeReason = reason }
}

/// A client and a server TLSTransport over two InMemoryTransports; the test moves the ciphertext (`pump`).
final class TLSPair {
    let clientWire: InMemoryTransport
    let serverWire: InMemoryTransport
    let client: TLSTransport
    let server: TLSTransport
    let clientApp = Recorder()
    let serverApp = Recorder()

    /// Both sides started (on `loop`'s thread): the client's ClientHello is in `clientWire`'s output. `windows` is
    /// both wires' `peerWindow` (how much of a side's output the peer takes before the test reads it).
    init(
        loop: EventLoop, server serverContext: TLSContext, client clientContext: TLSContext,
        psk: TLSExternalPSK? = nil, session: TLSSession? = nil, handshakeTimeout: Duration = .seconds(60),
        windows: Int? = nil
    ) throws {
        loop.preconditionInEventLoop()
        clientWire = InMemoryTransport(loop: loop, handler: Placeholder())
        serverWire = InMemoryTransport(loop: loop, handler: Placeholder())
        clientWire.peerWindow = windows
        serverWire.peerWindow = windows
        server = try TLSTransport(server: serverWire, context: serverContext)
        client = try TLSTransport(
            client: clientWire, context: clientContext, serverName: "localhost", psk: psk, session: session)
        server.handler = serverApp
        client.handler = clientApp
        server.start(handshakeTimeout: handshakeTimeout)
        client.start(handshakeTimeout: handshakeTimeout)
    }

    /// Moves ciphertext both ways until neither side sends more; each delivery cut into `chunk`-byte reads.
    func pump(chunk: Int? = nil) {
        while true {
            let toServer = clientWire.takeOutput()
            let toClient = serverWire.takeOutput()
            if toServer.isEmpty && toClient.isEmpty { return }
            Self.deliver(toServer, to: serverWire, chunk: chunk)
            Self.deliver(toClient, to: clientWire, chunk: chunk)
        }
    }

    private static func deliver(_ bytes: [UInt8], to wire: InMemoryTransport, chunk: Int?) {
        guard !bytes.isEmpty else { return }
        let size = chunk ?? bytes.count
        var offset = 0
        while offset < bytes.count {
            wire.receive(bytes[offset..<min(offset + size, bytes.count)])
            offset += size
        }
    }

    /// Handshake bytes both ways, as the client counted them.
    var clientHandshakeBytes: UInt64 { client.byteCounts.handshakeIn + client.byteCounts.handshakeOut }

    /// Closes both sides now.
    func closeBoth() {
        client.close()
        server.close()
    }
}

/// After close: the wire's bytes are the plaintext plus the kinds of overhead, and the handler's per-call reports
/// add up to the transport's plaintext totals.
func expectExactAccounting(
    _ tls: TLSTransport, _ wire: InMemoryTransport, _ app: Recorder, _ side: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let counts = tls.byteCounts
    #expect(
        wire.bytesRead == tls.bytesRead + counts.handshakeIn + counts.recordIn,
        "\(side) in: wire \(wire.bytesRead), plaintext \(tls.bytesRead), \(counts)", sourceLocation: sourceLocation)
    #expect(
        wire.bytesWritten == tls.bytesWritten + counts.handshakeOut + counts.recordOut,
        "\(side) out: wire \(wire.bytesWritten), plaintext \(tls.bytesWritten), \(counts)",
        sourceLocation: sourceLocation)
    #expect(UInt64(app.reportedRead) == tls.bytesRead, "\(side) didRead sum", sourceLocation: sourceLocation)
    #expect(UInt64(app.reportedWritten) == tls.bytesWritten, "\(side) didWrite sum", sourceLocation: sourceLocation)
}
