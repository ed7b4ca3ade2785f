// The devices of one event loop: their state machines, links and wake timers, all on the loop's thread.
// Events go in through `deliver`; the actions the devices return are carried out at once, in order.

import EventIO
import Simulation
import TLS
import Trust
internal import Glibc

/// One loop's share of the fleet.
final class LoopFleet {
    let loop: EventLoop
    let target: SocketAddress
    let authority: String
    let callTimeoutNs: UInt64
    /// Derives the devices' tokens; nil sends no `authorization` at all.
    let fleetKey: FleetKey?
    /// `Bearer <token>` per device id, derived on first use.
    private var authorizations: [String: String] = [:]
    private(set) var fleet: DeviceFleet
    private var links: [DeviceLink?]
    private var wakeTimers: [TimerHandle?]
    private(set) var finishedCount = 0
    private let onFinished: () -> Void
    /// Where acknowledged batches are recorded, when asked for.
    let ackLog: AckLog?
    /// The TLS setup; nil: plaintext links.
    let tls: FleetTLS?
    /// Each device's newest session ticket, offered on its next connection when resumption is on.
    private var sessions: [TLSSession?]
    /// Why the first failed TLS handshake failed (a wrong CA file shows here), for the run's result.
    private(set) var firstHandshakeFailure: String?

    /// Upload and Sync streams leave out what they already said (stream context).
    let usesStreamContext: Bool
    /// gRPC batches carry their mantissa deltas bit-packed (`packed_deltas`) where that is smaller.
    let packsDeltas: Bool
    /// How connect devices encode their requests.
    let connectCodec: ConnectCodec
    /// The HTTP of grpc-web, grpc-web-text and connect devices.
    let webHTTP: WebHTTPVersion

    init(loop: EventLoop, fleet: DeviceFleet, target: SocketAddress, authority: String, callTimeoutNs: UInt64,
         ackLog: AckLog? = nil, fleetKey: FleetKey? = nil, tls: FleetTLS? = nil, usesStreamContext: Bool = true,
         packsDeltas: Bool = true, connectCodec: ConnectCodec = .proto, webHTTP: WebHTTPVersion = .http1,
         onFinished: @escaping () -> Void) {
        self.packsDeltas = packsDeltas
        self.connectCodec = connectCodec
        self.webHTTP = webHTTP
        self.ackLog = ackLog
        self.usesStreamContext = usesStreamContext
        self.tls = tls
        self.loop = loop
        self.fleet = fleet
        self.target = target
        self.authority = authority
        self.callTimeoutNs = callTimeoutNs
        self.fleetKey = fleetKey
        self.onFinished = onFinished
        links = Array(repeating: nil, count: fleet.devices.count)
        wakeTimers = Array(repeating: nil, count: fleet.devices.count)
        sessions = Array(repeating: nil, count: fleet.devices.count)
    }

    /// Real monotonic time in ns, the clock the devices and their wake-ups use.
    func now() -> UInt64 { Monotonic.nowNs() }

    /// The `authorization` value for a device: `Bearer <HMAC-SHA256(fleet key, device id) in hex>`, or nil without a
    /// fleet key, and nil over TLS-PSK (the handshake already proved the device: no token on its calls).
    func authorization(for deviceID: String) -> String? {
        guard let fleetKey, tls?.authentication != .psk else { return nil }
        if let known = authorizations[deviceID] { return known }
        let value = "Bearer " + fleetKey.token(for: deviceID).hex
        authorizations[deviceID] = value
        return value
    }

    /// Links closing gracefully (TLS close_notify exchange) whose last bytes are not counted yet.
    private var closingLinks = 0

    /// Every device finished and every link's last bytes are counted.
    var isFinished: Bool { finishedCount == fleet.devices.count && closingLinks == 0 }

    /// A link started a graceful close: the run is not over before it ends.
    func linkCloseStarted() { closingLinks += 1 }

    /// A graceful close ended (its bytes are counted).
    func linkCloseEnded() {
        closingLinks -= 1
        if closingLinks == 0 && finishedCount == fleet.devices.count { onFinished() }
    }

    func start() {
        if fleet.devices.isEmpty { onFinished() }
        for slot in fleet.devices.indices { deliver(.start, slot: slot) }
    }

    /// Tells every device to stop producing and send what it holds.
    func finish() {
        for slot in fleet.devices.indices where !fleet.devices[slot].isFinished { deliver(.finish, slot: slot) }
    }

    func deliver(_ event: DeviceEvent, slot: Int) {
        if let ackLog { ackLog.append(fleet.batchesAcknowledged(by: event, slot: slot)) }
        let actions = fleet.handle(event, slot: slot, at: now())
        for action in actions { perform(action, slot: slot) }
    }

    func recordWireBytes(slot: Int, sent: Int, received: Int) {
        fleet.recordWireBytes(slot: slot, sent: sent, received: received)
    }

    func recordTLSBytes(slot: Int, _ bytes: TLSBytes) {
        fleet.recordTLSBytes(slot: slot, bytes)
    }

    func recordHandshake(slot: Int, _ kind: HandshakeKind) {
        fleet.recordHandshake(slot: slot, kind)
    }

    func recordSegments(slot: Int, _ counts: SegmentCounts) {
        fleet.recordSegments(slot: slot, sent: Int64(counts.outbound), received: Int64(counts.inbound))
    }

    /// Keeps the newest ticket of the device at `slot` for its next connection.
    func keepSession(slot: Int, _ session: TLSSession) {
        if tls?.resumption == true { sessions[slot] = session }
    }

    /// Forgets the ticket of the device at `slot` (its next connection makes a full handshake).
    func dropSession(slot: Int) { sessions[slot] = nil }

    /// Notes a failed handshake (the first one's reason is kept).
    func noteHandshakeFailure(_ reason: String) {
        if firstHandshakeFailure == nil { firstHandshakeFailure = reason }
    }

    func progress() -> ProgressSnapshot { fleet.progress(at: now()) }

    private func perform(_ action: DeviceAction, slot: Int) {
        switch action {
        case .connect:
            let device = fleet.devices[slot]
            let link = DeviceLink(slot: slot, deviceID: device.deviceID, deviceProtocol: device.deviceProtocol,
                                  fleet: self)
            links[slot] = link
            do {
                let connection = try loop.connect(to: target, handler: link)
                guard let tls else {
                    link.connection = connection
                    return
                }
                do {
                    let psk = tls.authentication == .psk ? fleetKey.map {
                        TLSExternalPSK(identity: device.deviceID, key: $0.tlsPSK(for: device.deviceID).bytes)
                    } : nil
                    let transport = try TLSTransport(
                        client: connection, context: tls.context(for: device.deviceProtocol, webHTTP: webHTTP),
                        serverName: tls.serverName, psk: psk, session: tls.resumption ? sessions[slot] : nil)
                    transport.handler = link
                    link.connection = transport
                    link.tls = transport
                    transport.start(handshakeTimeout: tls.handshakeTimeout)
                } catch {
                    noteHandshakeFailure(error.description)
                    connection.handler = nil
                    connection.close()
                    links[slot] = nil
                    loop.schedule(after: .zero) { [weak self] in
                        self?.deliver(.connectFailed(.connectionRefused), slot: slot)
                    }
                }
            } catch {
                links[slot] = nil
                // No socket could be made (out of descriptors): retry like a refused connect.
                loop.schedule(after: .zero) { [weak self] in self?.deliver(.connectFailed(.connectionRefused), slot: slot) }
            }
        case .openUploadStream: links[slot]?.openStream()
        case .openSyncStream: links[slot]?.openStream(sync: true)
        case .halfCloseSyncStream: links[slot]?.halfCloseSyncStream()
        case .sendOnStream(let batch): links[slot]?.sendOnStream(batch)
        case .halfCloseStream(let seqs): links[slot]?.halfCloseStream(covering: seqs)
        case .push(let batch): links[slot]?.push(batch)
        case .post(let batch): links[slot]?.post(batch)
        case .scheduleWake(let atNs):
            if let timer = wakeTimers[slot] { loop.cancel(timer) }
            // One reading of the clock: with two, time could pass the wake between the test and the subtraction,
            // and the unsigned difference trapped (seen in a 200× run with 1 s batches).
            let current = now()
            let delay = atNs > current ? atNs - current : 0
            wakeTimers[slot] = loop.schedule(after: .nanoseconds(Int64(clamping: delay))) { [weak self] in
                guard let self else { return }
                wakeTimers[slot] = nil
                deliver(.tick, slot: slot)
            }
        case .disconnect:
            links[slot]?.abandon()
            links[slot] = nil
        case .finished:
            if let timer = wakeTimers[slot] { loop.cancel(timer) }
            wakeTimers[slot] = nil
            finishedCount += 1
            if isFinished { onFinished() }
        }
    }
}

/// The monotonic clock.
enum Monotonic {
    static func nowNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
