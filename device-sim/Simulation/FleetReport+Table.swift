// The report for a terminal. Layout (widths adapt to the content; numbers right-aligned, thousands separated):
//
//     device-sim: 100 devices, mixed, seed 42; sensors temperature, humidity, pressure, battery
//     interval 1 s, batch 10 s, speedup 60×; ran 60.0 s real, 01:00:00 simulated
//
//     protocol     devices  readings acked  bytes sent  bytes received  B/reading  vs best  ack p50  ack p99  ...
//     -----------------------------------------------------------------------------------------------------------
//     grpc-stream       34          81,600     412,345          12,100       5.20    1.00×  1.20 ms  4.50 ms  ...
//     grpc-unary        33          79,200     ...
//     rest              33          79,200     ...
//     -----------------------------------------------------------------------------------------------------------
//     total            100         240,000     ...
//
//     highest bytes per reading: dev-00003 (rest) 58.20 B
//     lowest bytes per reading:  dev-00001 (grpc-stream) 5.10 B
//     errors: grpc-unary unavailable 3; rest refused 1
//
//     cross-check with the collector: OK, 100 devices agree
//     protocol     sim bytes sent  collector bytes in  sim bytes received  collector bytes out  sim readings  ...
//
// Columns of the protocol table: protocol, devices, readings acked, bytes sent, bytes received (exact bytes),
// B/reading (wire bytes both directions per acknowledged reading), vs best (ratio to the lowest B/reading),
// ack p50 / p99 / p99.9, retries (re-sent batches), dropped (batches), errors (all kinds). Bytes are exact counts so
// they can be compared with the collector's to the byte; over TLS they are the ciphertext on the sockets.
//
// Then the link table (when the kernel's segment counts or TLS handshakes are known):
//
//     link: TLS (certificate, token), per-batch reconnect, resumption on
//     protocol     full  resumed  PSK  TLS handshake B  TLS record B  segments sent  segments received  est. link B/reading
//
// handshakes by kind; TLS handshake and record-overhead bytes both directions (part of the bytes above); TCP
// segments; and the estimated link bytes per reading: socket bytes + 52 B per segment (IPv4 + TCP with
// timestamps), labelled an estimate.

extension FleetReport {
    /// Most mismatched devices listed in the terminal; the JSON report lists all.
    static let listedMismatches = 10

    /// The report as text for a terminal, ending with a newline.
    public func renderTable() -> String {
        var out: [String] = []
        let sensors = run.sensors.map(\.name).joined(separator: ", ")
        out.append(
            "device-sim: \(NumberText.grouped(run.deviceCount)) devices, \(run.protocolText), "
                + "seed \(run.seed); sensors \(sensors)")
        var timing =
            "interval \(NumberText.period(run.intervalMs)), batch \(NumberText.period(run.batchMs)), "
            + "\(run.pacingText); ran \(NumberText.fixed(Double(run.elapsedNs) / 1e9, decimals: 1)) s real"
        if let simulatedMs = run.simulatedMs { timing += ", \(NumberText.span(simulatedMs)) simulated" }
        out.append(timing)
        out.append("link: \(run.link.description)")
        out.append("")
        out.append(protocolTable())
        out.append("")
        if showsLinkTable {
            out.append(linkTable())
            out.append("estimated link bytes = socket bytes + 52 B per TCP segment (IPv4 + TCP headers): an estimate")
            out.append("")
        }
        if let highest = highestBytesPerReading, let lowest = lowestBytesPerReading {
            out.append("highest bytes per reading: \(Self.describe(highest))")
            out.append("lowest bytes per reading:  \(Self.describe(lowest))")
        } else {
            out.append("no readings were acknowledged")
        }
        let errorParts = protocols.compactMap { row -> String? in
            let kinds = row.statistics.errors.nonZero
            guard !kinds.isEmpty else { return nil }
            return row.deviceProtocol.name + " "
                + kinds.map { "\($0.kind.name) \(NumberText.grouped($0.count))" }.joined(separator: ", ")
        }
        if !errorParts.isEmpty { out.append("errors: " + errorParts.joined(separator: "; ")) }
        for (failure, count) in stoppedDevices {
            out.append("stopped: \(NumberText.grouped(count)) devices refused by the collector with \(failure) ("
                       + (failure.authenticationMeaning ?? "refused") + ")")
        }
        if totalBufferedBatches > 0 {
            out.append("unsent at the end: \(NumberText.grouped(totalBufferedBatches)) batches still buffered")
        }
        if let crossCheck {
            out.append("")
            out.append(contentsOf: Self.crossCheckLines(crossCheck))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The protocol table with its total row.
    private func protocolTable() -> String {
        var table = TextTable([
            ("protocol", .left), ("devices", .right), ("readings acked", .right), ("bytes sent", .right),
            ("bytes received", .right), ("B/reading", .right), ("vs best", .right), ("ack p50", .right),
            ("ack p99", .right), ("ack p99.9", .right), ("retries", .right), ("dropped", .right), ("errors", .right),
        ])
        func cells(
            _ name: String, devices: Int, _ stats: DeviceStatistics, _ latency: LatencyPercentiles,
            ratio: Double?
        ) -> [String] {
            [
                name, NumberText.grouped(devices), NumberText.grouped(stats.readingsAcked),
                NumberText.grouped(stats.bytesSent), NumberText.grouped(stats.bytesReceived),
                stats.bytesPerReading.map { NumberText.fixed($0, decimals: 2) } ?? "-",
                ratio.map { NumberText.fixed($0, decimals: 2) + "×" } ?? "", Self.latency(latency.p50Ns),
                Self.latency(latency.p99Ns), Self.latency(latency.p999Ns), NumberText.grouped(stats.batchesRetried),
                NumberText.grouped(stats.batchesDropped), NumberText.grouped(stats.errors.total),
            ]
        }
        for row in protocols {
            table.add(
                cells(
                    row.deviceProtocol.name, devices: row.devices, row.statistics, row.latency,
                    ratio: row.ratioToBest))
        }
        table.addRule()
        table.add(cells("total", devices: devices.count, total, totalLatency, ratio: nil))
        return table.render()
    }

    /// True when there is something below the protocol to show: TLS handshakes or segment counts.
    var showsLinkTable: Bool {
        total.handshakes.total > 0 || total.segmentsSent + total.segmentsReceived > 0 || !total.tls.isZero
    }

    /// Handshakes, TLS bytes, segments and the estimated link cost per protocol, with the total row.
    private func linkTable() -> String {
        var table = TextTable([
            ("protocol", .left), ("full", .right), ("resumed", .right), ("PSK", .right),
            ("TLS handshake B", .right), ("TLS record B", .right), ("segments sent", .right),
            ("segments received", .right), ("est. link B/reading", .right),
        ])
        func cells(_ name: String, _ stats: DeviceStatistics) -> [String] {
            [
                name, NumberText.grouped(stats.handshakes.full), NumberText.grouped(stats.handshakes.resumed),
                NumberText.grouped(stats.handshakes.psk), NumberText.grouped(stats.tls.handshakeTotal),
                NumberText.grouped(stats.tls.recordTotal), NumberText.grouped(stats.segmentsSent),
                NumberText.grouped(stats.segmentsReceived),
                stats.estimatedLinkBytesPerReading.map { NumberText.fixed($0, decimals: 2) } ?? "-",
            ]
        }
        for row in protocols { table.add(cells(row.deviceProtocol.name, row.statistics)) }
        table.addRule()
        table.add(cells("total", total))
        return table.render()
    }

    /// The cross-check section.
    private static func crossCheckLines(_ check: CrossCheck) -> [String] {
        var out: [String] = []
        if check.isConsistent {
            out.append(
                "cross-check with the collector: OK, \(NumberText.grouped(check.devicesCompared)) devices agree "
                    + "to the byte")
        } else {
            out.append(
                "cross-check with the collector: MISMATCH (\(NumberText.grouped(check.deviceMismatches.count)) "
                    + "of \(NumberText.grouped(check.devicesCompared)) devices differ)")
        }
        var table = TextTable([
            ("protocol", .left), ("sim bytes sent", .right), ("collector bytes in", .right),
            ("sim bytes received", .right), ("collector bytes out", .right), ("sim readings", .right),
            ("collector readings", .right), ("check", .left),
        ])
        for row in check.protocols {
            table.add([
                row.deviceProtocol.name, NumberText.grouped(row.simulator.bytesIn),
                row.collector.map { NumberText.grouped($0.bytesIn) } ?? "missing",
                NumberText.grouped(row.simulator.bytesOut),
                row.collector.map { NumberText.grouped($0.bytesOut) } ?? "missing",
                NumberText.grouped(row.simulator.readings),
                row.collector.map { NumberText.grouped($0.readings) } ?? "missing", row.isMatch ? "ok" : "MISMATCH",
            ])
        }
        out.append(table.render())
        let simulatorTLS = check.protocols.contains { !($0.simulator.tls?.isZero ?? true) }
        let collectorTLS = check.protocols.contains { $0.collector?.tls != nil }
        if simulatorTLS && collectorTLS {
            out.append("TLS handshake and record bytes compared too")
        } else if simulatorTLS {
            out.append("the collector does not report TLS bytes: they are compared within the totals only")
        }
        if !check.deviceMismatches.isEmpty {
            let shown = check.deviceMismatches.prefix(listedMismatches)
            out.append("devices that differ (\(shown.count) of \(NumberText.grouped(check.deviceMismatches.count))):")
            for row in shown { out.append("  " + describe(row)) }
        }
        if check.devicesNotCompared > 0 {
            out.append(
                "\(NumberText.grouped(check.devicesNotCompared)) devices stopped by an authentication refusal are "
                    + "compared in the protocol totals only (the collector books refused requests to its overhead row)")
        }
        if check.collectorOnlyRows > 0 {
            out.append(
                "the collector also has \(NumberText.grouped(check.collectorOnlyRows)) device rows this run "
                    + "did not produce")
        }
        return out
    }

    /// `dev-00003 (rest) 58.20 B`
    private static func describe(_ device: DeviceSummary) -> String {
        let perReading = device.statistics.bytesPerReading.map { NumberText.fixed($0, decimals: 2) } ?? "-"
        return "\(device.deviceID) (\(device.deviceProtocol.name)) \(perReading) B"
    }

    /// `dev-00002 grpc-unary: bytes out 345 here, 352 at the collector` (only the figures that differ).
    private static func describe(_ row: CrossCheck.Comparison) -> String {
        let name = "\(row.deviceID ?? "") \(row.deviceProtocol.name)"
        guard let collector = row.collector else { return name + ": no row at the collector" }
        let pairs = [
            ("bytes in", row.simulator.bytesIn, collector.bytesIn),
            ("bytes out", row.simulator.bytesOut, collector.bytesOut),
            ("readings", row.simulator.readings, collector.readings),
        ] + tlsPairs(row.simulator.tls, collector.tls)
        return name + ": "
            + pairs.filter { $0.1 != $0.2 }
            .map { "\($0.0) \(NumberText.grouped($0.1)) here, \(NumberText.grouped($0.2)) at the collector" }
            .joined(separator: "; ")
    }

    /// The TLS figures of a comparison, when both sides have them.
    private static func tlsPairs(_ simulator: TLSBytes?, _ collector: TLSBytes?) -> [(String, Int64, Int64)] {
        guard let simulator, let collector else { return [] }
        return [
            ("TLS handshake bytes in", simulator.handshakeSent, collector.handshakeSent),
            ("TLS handshake bytes out", simulator.handshakeReceived, collector.handshakeReceived),
            ("TLS record bytes in", simulator.recordSent, collector.recordSent),
            ("TLS record bytes out", simulator.recordReceived, collector.recordReceived),
        ]
    }

    /// A latency cell.
    private static func latency(_ ns: UInt64?) -> String { ns.map(NumberText.milliseconds) ?? "-" }
}
