// Fuzzes the server side of TLSTransport (the collector's port 443 face) over an InMemoryTransport on a real event
// loop, with properties that must hold for every input:
//
// - Nothing traps, whatever arrives and however it is cut into reads.
// - Memory stays bounded: the ciphertext left unconsumed underneath is less than one whole record while reading is
//   not paused (a record is fed to OpenSSL as soon as it is whole; a bad header is refused before buffering); the
//   plaintext left unconsumed stays under `Connection.maxUnconsumedByteCount`; OpenSSL's read BIO never holds more
//   than one record and its write BIO is always drained to the socket.
// - Accounting: once closed, the bytes read underneath are the plaintext plus handshake and record overhead, the
//   bytes written likewise, and the handler's didRead/didWrite reports add up to the plaintext totals.
// - Plaintext the handler received is a prefix of what our client sent, in order (modes 2 and 3).
//
// The first input byte picks a mode, the second how the bytes are cut into reads:
//   0  the rest is raw ciphertext from a client, into a fresh server (ClientHello parsing, the record layer);
//   1  a real handshake (full or PSK) with our client first, then the rest raw into the established server;
//   2  a real handshake, then the rest is a script of client writes, handler consume limits, pauses and resumes,
//      and pumps cut into reads;
//   3  like 2, but raw bytes from the script are spliced into the ciphertext.

import EventIO
import Dispatch
import Glibc
internal import COpenSSL

/// One loop for every input: each input runs as one task on its thread.
let fuzzLoops = try! EventLoopGroup(loopCount: 1, name: "fw-fuzz-tls")

/// A self-signed certificate in a fresh temporary directory, made once per process.
let fuzzCertificate: (certificateFile: String, keyFile: String) = {
    var template = Array("/tmp/fw-fuzz-tls-XXXXXX".utf8CString)
    let directory = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    let files = (certificateFile: directory + "/cert.pem", keyFile: directory + "/key.pem")
    try! SelfSignedCertificate.create(certificateFile: files.certificateFile, keyFile: files.keyFile, hostNames: ["localhost"])
    return files
}()

let fuzzPSK = [UInt8](repeating: 0x5a, count: 32)

let fuzzServerContext: TLSContext = {
    var settings = TLSServerSettings(certificateFile: fuzzCertificate.certificateFile, keyFile: fuzzCertificate.keyFile)
    settings.externalPSK = { $0 == "dev1" ? fuzzPSK : nil }
    return try! TLSContext(server: settings)
}()

let fuzzClientContext = try! TLSContext(client: TLSClientSettings(caFile: fuzzCertificate.certificateFile))

/// The longest ciphertext that may wait underneath for the rest of its record.
let maxPartialRecord = TLSRecordHeader.byteCount + TLSRecordHeader.maxFragmentLength - 1

/// libFuzzer's input, run on the loop thread.
func fuzzOneInput(_ input: UnsafeRawBufferPointer) {
    let bytes = Array(input)
    let done = DispatchSemaphore(value: 0)
    let loop = fuzzLoops.loops[0]
    require(loop.execute { runInput(bytes, on: loop); done.signal() }, "the loop runs")
    done.wait()
}

/// The plaintext handler: consumes as the script says, pauses when told, records what it got.
final class FuzzHandler: ConnectionHandler {
    var received: [UInt8] = []
    var reportedRead = 0
    var reportedWritten = 0
    var consumeLimit: Int?
    var didOpen = false

    func connectionDidOpen(_ connection: any ByteTransport) { didOpen = true }
    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        let taken = min(input.count, consumeLimit ?? input.count)
        received.append(contentsOf: input[..<taken])
        return taken
    }
    func connection(_ connection: any ByteTransport, didRead byteCount: Int) { reportedRead += byteCount }
    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) { reportedWritten += byteCount }
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) { connection.close() }
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {}
}

/// Sits between the InMemoryTransport and the server TLSTransport, forwarding everything, to measure the
/// ciphertext the TLS side leaves unconsumed.
final class WireTap: ConnectionHandler {
    let tls: TLSTransport
    var unconsumed = 0

    init(_ tls: TLSTransport) { self.tls = tls }

    func connectionDidOpen(_ connection: any ByteTransport) { tls.connectionDidOpen(connection) }
    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        let consumed = tls.connection(connection, didReceive: input)
        require(consumed >= 0 && consumed <= input.count, "consumed \(consumed) of \(input.count)")
        unconsumed = input.count - consumed
        require(
            unconsumed <= maxPartialRecord || tls.isReadingPaused || tls.isClosed,
            "\(unconsumed) ciphertext bytes left unconsumed while reading")
        return consumed
    }
    func connection(_ connection: any ByteTransport, didRead byteCount: Int) { tls.connection(connection, didRead: byteCount) }
    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) { tls.connection(connection, didWrite: byteCount) }
    func connectionDidDrain(_ connection: any ByteTransport) { tls.connectionDidDrain(connection) }
    func connectionInputDidEnd(_ connection: any ByteTransport) { tls.connectionInputDidEnd(connection) }
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) { tls.connectionIdleTimeoutExpired(connection) }
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        tls.connection(connection, didCloseWith: reason)
    }
}

/// The InMemoryTransport's first handler, until TLSTransport.start takes over.
final class Unused: ConnectionHandler {
    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int { input.count }
    func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {}
    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {}
}

/// Reads the script: the input's bytes after the header, one at a time; zeros once it runs out.
struct Script {
    let bytes: [UInt8]
    var offset: Int
    var isEmpty: Bool { offset >= bytes.count }
    mutating func byte() -> Int {
        defer { offset += 1 }
        return offset < bytes.count ? Int(bytes[offset]) : 0
    }
    mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let end = min(bytes.count, offset + count)
        defer { offset = end }
        return bytes[min(offset, end)..<end]
    }
}

func runInput(_ input: [UInt8], on loop: EventLoop) {
    var random = input.withUnsafeBytes { FuzzRandom(seededBy: $0) }
    var script = Script(bytes: input, offset: 0)
    let mode = script.byte() % 4
    let cutting = script.byte()

    let serverWire = InMemoryTransport(loop: loop, handler: Unused())
    let server = try! TLSTransport(server: serverWire, context: fuzzServerContext)
    let app = FuzzHandler()
    server.handler = app
    server.start(handshakeTimeout: .seconds(3600))
    let tap = WireTap(server)
    serverWire.handler = tap

    var client: (tls: TLSTransport, wire: InMemoryTransport, app: FuzzHandler)?
    var sent: [UInt8] = []

    /// Delivers `bytes` to the server in reads cut as the header says, checking the bounds after each.
    func deliver(_ bytes: ArraySlice<UInt8>, cut: Int) {
        let pieces: [Int]
        // Small pieces only for short deliveries: every piece copies the partial record waiting underneath.
        switch cut % 4 {
        case 0: pieces = ArrivalPattern.whole(bytes.count)
        case 1 where bytes.count <= 1_024: pieces = ArrivalPattern.byteByByte(bytes.count)
        case 3 where bytes.count <= 4_096: pieces = ArrivalPattern.randomPieces(bytes.count, &random)
        default: pieces = ArrivalPattern.twoPieces(bytes.count, &random)
        }
        var offset = bytes.startIndex
        for length in pieces {
            serverWire.receive(bytes[offset..<offset + length])
            offset += length
            checkBounds(server)
        }
    }

    /// Moves the client's output to the server (cut) and the server's to the client, until both are quiet.
    func pump(cut: Int) {
        guard let client else { return }
        for _ in 0..<64 {
            let toServer = client.wire.takeOutput()
            let toClient = serverWire.takeOutput()
            if toServer.isEmpty && toClient.isEmpty { return }
            deliver(toServer[...], cut: cut)
            if !toClient.isEmpty { client.wire.receive(toClient) }
        }
    }

    if mode != 0 {
        let usesPSK = cutting & 0x10 != 0
        let wire = InMemoryTransport(loop: loop, handler: Unused())
        let tls = try! TLSTransport(
            client: wire, context: fuzzClientContext, serverName: "localhost",
            psk: usesPSK ? TLSExternalPSK(identity: "dev1", key: fuzzPSK) : nil)
        let clientApp = FuzzHandler()
        tls.handler = clientApp
        tls.start(handshakeTimeout: .seconds(3600))
        client = (tls, wire, clientApp)
        pump(cut: cutting)
        require(server.isHandshakeComplete && app.didOpen, "our own client's handshake completes")
        require(server.handshakeKind == (usesPSK ? .psk : .full), "handshake kind \(String(describing: server.handshakeKind))")
    }

    switch mode {
    case 0, 1:
        deliver(script.take(input.count), cut: cutting)
    default:
        while !script.isEmpty && !server.isClosed {
            let op = script.byte()
            switch op % 8 {
            case 0, 1, 2:  // the client writes up to ~19 KB of pattern plaintext (two records)
                let count = (op >> 3) * 600 + script.byte()
                let chunk = (0..<count).map { UInt8(truncatingIfNeeded: (sent.count + $0) % 251) }
                sent += chunk
                client?.tls.write(chunk)
                pump(cut: script.byte())
            case 3:
                app.consumeLimit = op >> 3 == 0 ? nil : (op >> 3) * 97
            case 4:
                server.pauseReading()
            case 5:
                server.resumeReading()
                // Redelivery comes on a later iteration; offer what is left now as that iteration would.
                if !server.isPaused { server.deliverPlaintext(nil) }
                checkBounds(server)
            case 6:
                if mode == 3 { deliver(script.take(op >> 3 + 1), cut: script.byte()) }
            default:
                pump(cut: op >> 3)
            }
            let prefix = app.received.count
            require(prefix <= sent.count && app.received[...] == sent[..<prefix], "plaintext arrived intact and in order")
        }
    }

    server.close()
    client?.tls.close()
    checkAccounting(server, serverWire, app)
    if let client { checkAccounting(client.tls, client.wire, client.app) }
}

/// The memory bounds, after every read.
func checkBounds(_ server: TLSTransport) {
    guard !server.isClosed else { return }
    require(
        server.plainUnconsumed.count < Connection.maxUnconsumedByteCount,
        "\(server.plainUnconsumed.count) plaintext bytes left unconsumed")
    require(server.plainOutbound.isEmpty, "plaintext output waiting without a flush")
    let readPending = Int(BIO_ctrl_pending(server.readBIO))
    require(readPending <= TLSRecordHeader.byteCount + TLSRecordHeader.maxFragmentLength, "\(readPending) bytes in the read BIO")
    require(BIO_ctrl_pending(server.writeBIO) == 0, "ciphertext left in the write BIO")
}

/// Once closed, every byte is booked exactly once.
func checkAccounting(_ tls: TLSTransport, _ wire: InMemoryTransport, _ app: FuzzHandler) {
    require(tls.isClosed && wire.isClosed, "closed")
    let counts = tls.byteCounts
    require(
        wire.bytesRead == tls.bytesRead + counts.handshakeIn + counts.recordIn,
        "in: wire \(wire.bytesRead) plaintext \(tls.bytesRead) \(counts)")
    require(
        wire.bytesWritten == tls.bytesWritten + counts.handshakeOut + counts.recordOut,
        "out: wire \(wire.bytesWritten) plaintext \(tls.bytesWritten) \(counts)")
    require(UInt64(app.reportedRead) == tls.bytesRead, "didRead sum")
    require(UInt64(app.reportedWritten) == tls.bytesWritten, "didWrite sum")
}
