import Simulation

extension CollectorFigures {
    /// What changed since `before`: the collector's counters are totals since it started, so a run's own figures
    /// are the difference between a snapshot after the run and one before it.
    public func subtracting(_ before: CollectorFigures) -> CollectorFigures {
        func minus(_ a: Counts, _ b: Counts?) -> Counts {
            guard let b else { return a }
            var difference = Counts(bytesIn: a.bytesIn - b.bytesIn, bytesOut: a.bytesOut - b.bytesOut,
                                    readings: a.readings - b.readings)
            if let tls = a.tls { difference.tls = tls - (b.tls ?? TLSBytes()) }
            if let segments = a.segments {
                let earlier = b.segments ?? (0, 0)
                difference.segments = (segments.sent - earlier.sent, segments.received - earlier.received)
            }
            return difference
        }
        var protocols: [String: Counts] = [:]
        for (name, counts) in self.protocols { protocols[name] = minus(counts, before.protocols[name]) }
        let earlier = Dictionary(before.devices.map { ("\($0.deviceID)|\($0.protocolName)", $0.counts) },
                                 uniquingKeysWith: { a, _ in a })
        let devices = self.devices.map { row in
            DeviceRow(deviceID: row.deviceID, protocolName: row.protocolName,
                      counts: minus(row.counts, earlier["\(row.deviceID)|\(row.protocolName)"]))
        }.filter { $0.counts.bytesIn != 0 || $0.counts.bytesOut != 0 || $0.counts.readings != 0 }
        return CollectorFigures(protocols: protocols.filter { $0.value.bytesIn != 0 || $0.value.bytesOut != 0 },
                                devices: devices)
    }
}
