// The simulator's client-side counts next to the collector's, so a run proves (or disproves) that both ends saw
// the same bytes and readings.
//
// Compared, per protocol and per (device, protocol):
//     simulator bytes sent      = collector bytes_in
//     simulator bytes received  = collector bytes_out
//     Σ Ack.readings            = collector readings
// and, when the collector reports them (a collector that counts TLS), the TLS part of those bytes:
//     simulator TLS handshake / record bytes sent      = collector tls_handshake_bytes_in / tls_record_bytes_in
//     simulator TLS handshake / record bytes received  = collector tls_handshake_bytes_out / tls_record_bytes_out
// Over TLS the simulator's bytes are the ciphertext on its sockets (plaintext + handshake + record overhead), so
// the totals agree to the byte as on plaintext. TCP segments are shown, never compared: the two ends count ACKs
// at different moments.
// Any difference, and any simulator device or protocol the collector has no row for, is a mismatch: the
// collector's ledger attributes every socket byte exactly once, so on a quiet collector the figures agree exactly.
// Collector rows for devices the simulator does not know (other clients, earlier runs) are counted, not compared.
// A collector that was not fresh (earlier runs of the same device ids) shows up here as mismatches: its counters
// are totals since it started. Devices stopped by an authentication refusal are not compared one by one: the
// collector books a refused request to the protocol's overhead row (device ""), not to the device it claimed to
// be, so only the protocol totals can agree for them.

/// The cross-check; see above.
public struct CrossCheck: Equatable, Sendable {
    /// One compared row.
    public struct Comparison: Equatable, Sendable {
        /// The simulator's protocol.
        public var deviceProtocol: DeviceProtocol
        /// The device; nil for a protocol's totals.
        public var deviceID: String?
        /// What the simulator counted, in the collector's directions.
        public var simulator: CollectorFigures.Counts
        /// What the collector reported; nil when it has no such row.
        public var collector: CollectorFigures.Counts?

        /// True when both sides agree exactly (TLS bytes too when the collector reports them).
        public var isMatch: Bool { collector.map { simulator.agrees(with: $0) } ?? false }
    }

    /// One comparison per protocol the simulator used.
    public var protocols: [Comparison]
    /// The devices whose figures differ, in device order.
    public var deviceMismatches: [Comparison]
    /// Devices compared.
    public var devicesCompared: Int
    /// Collector device rows of devices or protocols the simulator did not use.
    public var collectorOnlyRows: Int
    /// Devices stopped by an authentication refusal, left out of the per-device comparison (see above).
    public var devicesNotCompared = 0

    /// True when every protocol and every device agrees.
    public var isConsistent: Bool { protocols.allSatisfy(\.isMatch) && deviceMismatches.isEmpty }

    /// Compares the simulator's device summaries with the collector's figures.
    public static func make(devices: [DeviceSummary], collector: CollectorFigures) -> CrossCheck {
        var perProtocol: [DeviceProtocol: CollectorFigures.Counts] = [:]
        var collectorRows: [String: CollectorFigures.Counts] = [:]
        for row in collector.devices { collectorRows[row.deviceID + "\u{0}" + row.protocolName] = row.counts }
        var mismatches: [Comparison] = []
        var matchedKeys = Set<String>()
        var notCompared = 0
        for device in devices.sorted(by: { $0.deviceID < $1.deviceID }) {
            let counts = clientCounts(device.statistics)
            perProtocol[device.deviceProtocol, default: Self.zero] += counts
            let key = device.deviceID + "\u{0}" + device.deviceProtocol.collectorName
            matchedKeys.insert(key)
            if device.stoppedBy != nil {
                notCompared += 1
                continue
            }
            let comparison = Comparison(
                deviceProtocol: device.deviceProtocol, deviceID: device.deviceID,
                simulator: counts, collector: collectorRows[key])
            if !comparison.isMatch { mismatches.append(comparison) }
        }
        let protocols = DeviceProtocol.allCases.compactMap { deviceProtocol -> Comparison? in
            guard let counts = perProtocol[deviceProtocol] else { return nil }
            return Comparison(
                deviceProtocol: deviceProtocol, deviceID: nil, simulator: counts,
                collector: collector.protocols[deviceProtocol.collectorName])
        }
        let unknown = collectorRows.keys.filter { !matchedKeys.contains($0) }.count
        return CrossCheck(
            protocols: protocols, deviceMismatches: mismatches, devicesCompared: devices.count - notCompared,
            collectorOnlyRows: unknown, devicesNotCompared: notCompared)
    }

    /// Nothing counted.
    static let zero = CollectorFigures.Counts(bytesIn: 0, bytesOut: 0, readings: 0)

    /// A device's counters in the collector's terms.
    static func clientCounts(_ statistics: DeviceStatistics) -> CollectorFigures.Counts {
        var counts = CollectorFigures.Counts(
            bytesIn: statistics.bytesSent, bytesOut: statistics.bytesReceived,
            readings: statistics.readingsStored, tls: statistics.tls)
        counts.segments = (statistics.segmentsSent, statistics.segmentsReceived)
        return counts
    }
}
