// The devices one event loop drives, with the per-protocol latency histograms they feed.
//
// A driver splits the fleet over its loops (e.g. loop i of n takes the indices i, i + n, …, or one contiguous range
// each) and gives each loop a `DeviceFleet` of its own: the value lives on that loop's thread, so nothing is shared
// and nothing is locked. The loop addresses devices by their position in this fleet (`slot`). At the end the loops'
// summaries are concatenated and their latencies merged for `FleetReport.make`.

/// A set of simulated devices driven by one event loop; see above.
public struct DeviceFleet: Sendable {
    /// The devices, by slot.
    public private(set) var devices: [SimulatedDevice]
    /// Acknowledgement latencies by protocol, recorded from every `.acked` and `.streamAcked` event
    /// handled here (a Sync stream's latency is per batch).
    public private(set) var latencies = ProtocolLatencies()

    /// The devices of `configuration` at `indices` (fleet-wide, 0-based), in that order: slot i is `indices[i]`.
    public init(configuration: FleetConfiguration, indices: some Sequence<Int>) {
        devices = indices.map { configuration.makeDevice(at: $0) }
    }

    /// Devices you already made, in slot order.
    public init(devices: [SimulatedDevice]) {
        self.devices = devices
    }

    /// Feeds an event to the device at `slot` at real time `now` (ns); returns what to do for it.
    public mutating func handle(_ event: DeviceEvent, slot: Int, at now: UInt64) -> [DeviceAction] {
        if devices[slot].call != .idle {
            switch event {
            case .acked(_, _, let latencyNs): latencies.record(latencyNs, for: devices[slot].deviceProtocol)
            case .streamAcked(_, let latenciesNs):
                for latencyNs in latenciesNs { latencies.record(latencyNs, for: devices[slot].deviceProtocol) }
            default: break
            }
        }
        return devices[slot].handle(event, at: now)
    }

    /// Adds bytes written to and read from the sockets of the device at `slot`.
    public mutating func recordWireBytes(slot: Int, sent: Int, received: Int) {
        devices[slot].recordWireBytes(sent: sent, received: received)
    }

    /// Adds TLS bytes beyond the plaintext of the device at `slot` (to its wire bytes too).
    public mutating func recordTLSBytes(slot: Int, _ bytes: TLSBytes) {
        devices[slot].recordTLSBytes(bytes)
    }

    /// Counts a completed TLS handshake of the device at `slot`.
    public mutating func recordHandshake(slot: Int, _ kind: HandshakeKind) {
        devices[slot].recordHandshake(kind)
    }

    /// Adds the TCP segments of a closed connection of the device at `slot`.
    public mutating func recordSegments(slot: Int, sent: Int64, received: Int64) {
        devices[slot].recordSegments(sent: sent, received: received)
    }

    /// True when every device has finished.
    public var isFinished: Bool { devices.allSatisfy(\.isFinished) }

    /// Every device's figures, in slot order.
    public var summaries: [DeviceSummary] { devices.map(\.summary) }

    /// Totals for the progress line at real time `now` (ns).
    public func progress(at now: UInt64) -> ProgressSnapshot {
        var snapshot = ProgressSnapshot(atNs: now)
        for device in devices { snapshot.add(device) }
        if let clock = devices.first?.settings.clock, !clock.isMaxRate {
            snapshot.simulatedElapsedMs = clock.simulatedMs(atReal: now) - clock.startMs
        }
        return snapshot
    }
}
