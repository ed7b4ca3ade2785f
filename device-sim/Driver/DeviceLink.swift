// One simulated device's TCP connection: the protocol client that turns its actions into bytes and the collector's
// answers into device events. HTTP/1.1 for REST devices, and for gRPC-Web and Connect devices by default (one
// request in flight, keep-alive; WebPush spells the gRPC-Web and Connect requests and reads their answers); HTTP/2
// with our nghttp2 client session for gRPC devices (one call in flight; an Upload stream spans several batches), and
// for gRPC-Web and Connect devices under `--web-http 2` (one stream per Push, WebPush+HTTP2.swift). Over TLS the
// link is the handler of a `TLSTransport` (ALPN `h2` or `http/1.1`) and sees only plaintext; "connected" then means
// the handshake completed.
// An HTTP/1.1 answer is judged by the status of its own head, kept until its end (which may come in a later read).
//
// Rules: a link reports exactly one outcome per call (`.acked` or `.callFailed`), and `.disconnected` /
// `.connectFailed` when the connection ends on its own; a link the device closed (`abandon`) reports nothing more.
// Every byte on the socket is counted for the device's wire bytes, once: the handler's reads and writes (the
// socket's bytes on plaintext, the plaintext inside TLS), plus the growth of the TLS transport's handshake and
// record-overhead counts, taken at every callback and, final, at close. The kernel's segment counts are taken at
// close (also for a link the device abandoned: `close()` reports `didCloseWith` before it returns).

import EventIO
import GRPC
import HTTP1
import HTTP2
import Simulation
import Telemetry
import TLS
internal import Glibc

/// The networking half of one simulated device.
final class DeviceLink: ConnectionHandler, HTTP2SessionDelegate {
    let slot: Int
    let deviceID: String
    let deviceProtocol: DeviceProtocol
    unowned let fleet: LoopFleet
    /// The socket connection, or the TLS transport over it.
    var connection: (any ByteTransport)?
    /// The TLS transport, when the link is TLS.
    var tls: TLSTransport?
    /// The TLS transport's counts already added to the device's bytes.
    private var countedTLS = TLSBytes()
    /// A lingering TLS close is in progress (the fleet counts it until `didCloseWith`).
    private var isLingering = false
    private var isOpen = false
    private var isAbandoned = false
    // HTTP/1.1
    private var responseParser = HTTPResponseParser()
    /// The head of the response being read.
    private var responseHead: HTTPResponseHead?
    /// How this device pushes (grpc-web, grpc-web-text, connect), over HTTP/1.1 or HTTP/2; nil for REST and gRPC.
    private let webPush: WebPush?
    // HTTP/2
    /// The link speaks HTTP/2: a gRPC device, or a gRPC-Web or Connect device under `--web-http 2`.
    private let usesHTTP2: Bool
    private var session: HTTP2Session?
    private var streamID: Int32?
    private var response = TelemetryClientResponse()
    /// The answer of the gRPC-Web or Connect Push in flight over HTTP/2.
    private var webResponse: WebPushHTTP2Response?
    private var output: [UInt8] = []
    // The call in flight: what its answer covers (nil for a Sync stream, whose Acks were reported as they came)
    // and when the request was completed.
    private var pending: (seqs: ClosedRange<UInt64>?, sentNs: UInt64)?
    private var callTimer: TimerHandle?
    /// The open stream's stream context (nil when the run sends every batch in full).
    private var streamEncoder: StreamContextEncoder?
    /// Sync: when each batch still waiting for its Ack was sent, oldest first.
    private var syncSentNs: [UInt64] = []

    init(slot: Int, deviceID: String, deviceProtocol: DeviceProtocol, fleet: LoopFleet) {
        self.slot = slot
        self.deviceID = deviceID
        self.deviceProtocol = deviceProtocol
        self.fleet = fleet
        webPush = WebPush(deviceProtocol, connectCodec: fleet.connectCodec)
        usesHTTP2 = deviceProtocol.usesHTTP2(webHTTP: fleet.webHTTP)
    }

    // MARK: Connection events

    func connectionDidOpen(_ connection: any ByteTransport) {
        isOpen = true
        if let tls {
            countTLSBytes()
            if let kind = tls.handshakeKind.flatMap({ HandshakeKind(rawValue: $0.rawValue) }) {
                fleet.recordHandshake(slot: slot, kind)
            }
        }
        if usesHTTP2 {
            var settings = HTTP2Settings()
            settings.initialWindowSize = 64 << 10
            settings.connectionWindowSize = 65_535
            session = HTTP2Session(role: .client, settings: settings, delegate: self)
            flush()  // preface and SETTINGS
        }
        fleet.deliver(.connected, slot: slot)
    }

    func connection(_ connection: any ByteTransport, didRead byteCount: Int) {
        fleet.recordWireBytes(slot: slot, sent: 0, received: byteCount)
        countTLSBytes()
    }

    func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
        fleet.recordWireBytes(slot: slot, sent: byteCount, received: 0)
        countTLSBytes()
    }

    /// Adds what the TLS transport's handshake and record counts grew by since last time.
    private func countTLSBytes() {
        guard let tls else { return }
        let counts = tls.byteCounts
        let now = TLSBytes(
            handshakeSent: Int64(counts.handshakeOut), handshakeReceived: Int64(counts.handshakeIn),
            recordSent: Int64(counts.recordOut), recordReceived: Int64(counts.recordIn))
        let growth = now - countedTLS
        guard !growth.isZero else { return }
        countedTLS = now
        fleet.recordTLSBytes(slot: slot, growth)
    }

    func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        if let session {
            do {
                try session.receive(input)
            } catch {
                fail(.malformedResponse, closing: connection)
                return input.count
            }
            flush()
        } else {
            receiveHTTP1(input, on: connection)
        }
        return input.count
    }

    func connectionInputDidEnd(_ connection: any ByteTransport) {
        connection.close()
    }

    func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        cancelCallTimer()
        // The final counts: TLS books unprocessed ciphertext at close, the kernel's segments are read at close.
        countTLSBytes()
        if let segments = connection.segmentCounts { fleet.recordSegments(slot: slot, segments) }
        if let tls {
            if let session = tls.receivedSession { fleet.keepSession(slot: slot, session) }
            if !tls.isHandshakeComplete, case .connectFailed = reason {
                // Not a TLS problem: the TCP connect failed.
            } else if !tls.isHandshakeComplete {
                fleet.noteHandshakeFailure(tls.handshakeFailure?.description ?? "closed during the TLS handshake")
                // As browsers do: a ticket offered in a failed handshake is not offered again.
                fleet.dropSession(slot: slot)
            }
        }
        if isLingering {
            isLingering = false
            fleet.linkCloseEnded()
        }
        self.connection = nil
        session?.delegate = nil
        session = nil
        guard !isAbandoned else { return }
        isAbandoned = true
        switch reason {
        case .connectFailed(let error):
            fleet.deliver(.connectFailed(error.errno == ECONNREFUSED ? .connectionRefused : .connectionReset),
                          slot: slot)
        case .failed:
            fleet.deliver(.disconnected(.connectionReset), slot: slot)
        default:
            fleet.deliver(.disconnected(isOpen ? .connectionClosed : .connectionRefused), slot: slot)
        }
    }

    // MARK: Actions

    /// Closes the connection on the device's request: nothing more is reported. A TLS link closes as a TLS client
    /// should: close_notify and FIN, then it reads (and counts) the collector's close_notify until its FIN. Closing
    /// at once would leave the collector's close_notify unread here but counted as sent there, 24 bytes a
    /// connection apart. The fleet waits for such closes before it reports the run finished.
    func abandon() {
        isAbandoned = true
        cancelCallTimer()
        if let tls {
            // The ticket is here already (sent before any answer): the next connection may start before this
            // one has finished closing.
            if let session = tls.receivedSession { fleet.keepSession(slot: slot, session) }
            if let connection, !connection.isClosed {
                isLingering = true
                fleet.linkCloseStarted()
                connection.closeLingering(timeout: .seconds(2))
            }
        } else {
            connection?.close()
        }
        connection = nil
    }

    /// Opens an Upload (or, `sync`, a Sync) stream; with stream context its batches leave out what it already said.
    func openStream(sync: Bool = false) {
        guard let session else { return }
        response = TelemetryClientResponse(streamingAcks: sync)
        streamEncoder = fleet.usesStreamContext ? StreamContextEncoder() : nil
        syncSentNs.removeAll()
        let head = TelemetryRequestHead(method: sync ? .sync : .upload, deviceID: deviceID,
                                        authorization: fleet.authorization(for: deviceID))
        streamID = try? session.submitRequest([HTTP2HeaderField](head.makeRequestHead(authority: fleet.authority)),
                                              endStream: false)
        flush()
    }

    func sendOnStream(_ batch: Batch) {
        guard let session, let streamID else { return }
        let message = streamEncoder?.encode(batch) ?? batch
        session.send(streamID: streamID, GRPCMessageFramer.frame(message.protobufBytes(packingDeltas: fleet.packsDeltas)))
        if deviceProtocol == .grpcSync { syncSentNs.append(fleet.now()) }
        flush()
    }

    /// Sync: ends the request side; the remaining Acks and the OK end follow.
    func halfCloseSyncStream() {
        guard let session, let streamID else { return }
        startCall(nil)
        session.finish(streamID: streamID)
        flush()
    }

    /// Sync: reports the Acks that arrived, each with the latencies of the batches it covers.
    private func deliverArrivedAcks() {
        let now = fleet.now()
        for ack in response.takeArrivedAcks() {
            let covered = min(Int(clamping: ack.batches), syncSentNs.count)
            let latencies = syncSentNs.prefix(covered).map { now - $0 }
            syncSentNs.removeFirst(covered)
            fleet.deliver(.streamAcked(ack, latenciesNs: latencies), slot: slot)
        }
    }

    func halfCloseStream(covering seqs: ClosedRange<UInt64>) {
        guard let session, let streamID else { return }
        startCall(seqs)
        session.finish(streamID: streamID)
        flush()
    }

    func push(_ batch: Batch) {
        if let webPush, usesHTTP2 {
            pushOverHTTP2(batch, as: webPush)
            return
        }
        if let webPush {
            guard let connection else { return }
            let request = webPush.makeRequest(
                batch, deviceID: deviceID, authorization: fleet.authorization(for: deviceID),
                authority: fleet.authority, packsDeltas: fleet.packsDeltas)
            responseParser.expectResponse(to: "POST")
            startCall(batch.seq...batch.seq)
            connection.write(request)
            return
        }
        guard let session else { return }
        response = TelemetryClientResponse()
        let head = TelemetryRequestHead(method: .push, deviceID: deviceID,
                                        authorization: fleet.authorization(for: deviceID))
        guard let id = try? session.submitRequest(
            [HTTP2HeaderField](head.makeRequestHead(authority: fleet.authority)), endStream: false)
        else { return }
        streamID = id
        session.send(streamID: id, GRPCMessageFramer.frame(batch.protobufBytes(packingDeltas: fleet.packsDeltas)))
        startCall(batch.seq...batch.seq)
        session.finish(streamID: id)
        flush()
    }

    /// A gRPC-Web or Connect Push as one HTTP/2 stream: the request HTTP/1.1 would send, as headers and DATA.
    private func pushOverHTTP2(_ batch: Batch, as form: WebPush) {
        guard let session else { return }
        let fields = form.makeHTTP2Fields(
            deviceID: deviceID, authorization: fleet.authorization(for: deviceID), authority: fleet.authority,
            isTLS: tls != nil)
        guard let id = try? session.submitRequest(fields, endStream: false) else { return }
        streamID = id
        webResponse = WebPushHTTP2Response(form: form)
        session.send(streamID: id, form.makeBody(batch, packsDeltas: fleet.packsDeltas))
        startCall(batch.seq...batch.seq)
        session.finish(streamID: id)
        flush()
    }

    func post(_ batch: ReadingBatch) {
        guard let connection else { return }
        var headers = HTTPHeaders()
        headers.append(name: "Content-Type", value: "application/json")
        if let token = fleet.authorization(for: deviceID) { headers.append(name: "Authorization", value: token) }
        let request = HTTPRequestSerializer.makeRequest(
            method: "POST", target: "/v1/devices/\(deviceID)/readings", host: fleet.authority, headers: headers,
            body: batch.jsonBytes())
        responseParser.expectResponse(to: "POST")
        startCall(batch.seq...batch.seq)
        connection.write(request)
    }

    private func startCall(_ seqs: ClosedRange<UInt64>?) {
        pending = (seqs, fleet.now())
        cancelCallTimer()
        guard let loop = connection?.loop else { return }
        callTimer = loop.schedule(after: .nanoseconds(Int64(fleet.callTimeoutNs))) { [weak self] in
            guard let self, let connection else { return }
            callTimer = nil
            fail(.timedOut, closing: connection)
        }
    }

    private func cancelCallTimer() {
        if let callTimer, let loop = connection?.loop { loop.cancel(callTimer) }
        callTimer = nil
    }

    /// The call's answer: one outcome, then the call is over.
    private func complete(_ outcome: CallOutcome) {
        cancelCallTimer()
        let call = pending
        pending = nil
        streamID = nil
        switch outcome {
        case .acked where deviceProtocol == .grpcSync:
            fleet.deliver(.streamEnded, slot: slot)
        case .acked(let ack):
            guard let call, let seqs = call.seqs else { return }
            fleet.deliver(.acked(ack, covering: seqs, latencyNs: fleet.now() - call.sentNs), slot: slot)
        case .failed(let failure):
            fleet.deliver(.callFailed(failure), slot: slot)
        }
    }

    /// A broken exchange: report it as a lost connection and close.
    private func fail(_ failure: DeviceFailure, closing connection: any ByteTransport) {
        guard !isAbandoned else { return }
        isAbandoned = true
        cancelCallTimer()
        connection.close()
        self.connection = nil
        fleet.deliver(.disconnected(failure), slot: slot)
    }

    // MARK: HTTP/1.1

    private func receiveHTTP1(_ input: UnsafeRawBufferPointer, on connection: any ByteTransport) {
        var offset = 0
        while true {
            let step = responseParser.parse(UnsafeRawBufferPointer(rebasing: input[offset...]))
            offset += step.consumed
            switch step.event {
            case .needMoreData: return
            case .interim: continue
            case .head(let head): responseHead = head
            case .body: continue
            case .end(let end):
                let status = responseHead?.status.code ?? 200
                if let webPush {
                    complete(webPush.outcome(status: status, headers: responseHead?.headers ?? HTTPHeaders(),
                                             body: end.body))
                } else if status == 200, let ack = try? Ack(json: end.body) {
                    complete(.acked(ack))
                } else {
                    complete(.failed(status == 200 ? .malformedResponse : .httpStatus(status)))
                }
                responseHead = nil
                if !end.isKeepAlive, let live = self.connection, live === connection { connection.closeLingering() }
                if offset >= input.count { return }
            case .error, .closed:
                fail(.malformedResponse, closing: connection)
                return
            }
        }
    }

    // MARK: HTTP/2

    private func flush() {
        guard let session, let connection, !connection.isClosed else { return }
        output.removeAll(keepingCapacity: true)
        do {
            try session.drainOutput(into: &output, limit: 256 << 10)
        } catch {
            fail(.malformedResponse, closing: connection)
            return
        }
        if !output.isEmpty { connection.write(output) }
    }

    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let id, _, let fields, _, _) where id == streamID:
            if webResponse != nil {
                webResponse?.receiveHeaders(fields)
            } else {
                response.receiveHeaders(fields)
            }
        case .data(let id, let bytes):
            if id == streamID {
                if webResponse != nil {
                    webResponse?.receiveData(bytes)
                } else {
                    response.receiveData(bytes)
                }
                if deviceProtocol == .grpcSync { deliverArrivedAcks() }
            }
            session.consume(streamID: id, count: bytes.count)
        case .streamClosed(let id, let code) where id == streamID:
            if let answer = webResponse {
                webResponse = nil
                complete(answer.outcome(errorCode: code))
                return
            }
            if deviceProtocol == .grpcSync { deliverArrivedAcks() }
            switch response.outcome(errorCode: code) {
            case .success(let ack): complete(.acked(ack))
            case .failure(let status): complete(.failed(.grpcStatus(status.code.rawValue)))
            }
        case .goaway:
            // The collector is going away: finish what is in flight, then reconnect on the next batch.
            break
        default:
            break
        }
    }
}
