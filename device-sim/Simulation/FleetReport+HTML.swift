// The report as one self-contained HTML page (`device-sim run --html report.html`): no external resources; the
// bytes-per-reading chart is server-rendered SVG, the device table sorts with a few lines of inline JavaScript.
// Colors match the collector's dashboard (color-blind safe: blue, orange, green, sky blue for the four protocols).
// gRPC-Web, its text form and Connect take the Okabe–Ito colors left over here: vermillion, reddish purple, black
// (the dashboard gives the first two to h2c and rest-json-h2, which a simulator report never shows; yellow is left
// out, unreadable on white).

extension FleetReport {
    /// Protocol colors shared with the dashboard.
    static func color(_ deviceProtocol: DeviceProtocol) -> String {
        switch deviceProtocol {
        case .grpcStream: "#0072B2"
        case .grpcUnary: "#E69F00"
        case .rest: "#009E73"
        case .grpcSync: "#56B4E9"
        case .grpcWeb: "#D55E00"
        case .grpcWebText: "#CC79A7"
        case .connect: "#000000"
        }
    }

    /// The report as a standalone HTML document.
    public func renderHTML() -> String {
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <title>Fleetwire fleet report</title>
            <style>
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:32px auto;max-width:1100px;color:#1d232b;background:#fafbfc}
            h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}p.meta{color:#5b6673;margin:0 0 18px}
            table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px #0001}
            th,td{padding:6px 10px;text-align:right;border-bottom:1px solid #e8ecf0;font-variant-numeric:tabular-nums;white-space:nowrap}
            th{background:#f1f4f7;font-weight:600;cursor:pointer;user-select:none}th:first-child,td:first-child{text-align:left}
            .ok{color:#0a7d45;font-weight:600}.bad{color:#b3261e;font-weight:600}.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
            .card{background:#fff;box-shadow:0 1px 2px #0001;padding:16px;border-radius:6px}
            </style></head><body>
            <h1>Fleetwire fleet report</h1>
            """
        html += "<p class=\"meta\">\(escape(run.deviceCount)) devices, \(escape(run.protocolText)), seed "
            + "\(run.seed); sensors \(run.sensors.map(\.name).joined(separator: ", ")); interval "
            + "\(run.intervalMs) ms, batch \(run.batchMs) ms; \(escape(run.pacingText)); link "
            + "\(escape(run.link.description))</p>"
        html += "<h2>Wire bytes per reading</h2><div class=\"card\">\(barChart())</div>"
        html += "<h2>Per protocol</h2><table><tr><th>protocol</th><th>devices</th><th>readings acked</th>"
            + "<th>bytes sent</th><th>bytes received</th><th>B/reading</th><th>vs best</th><th>ack p50</th>"
            + "<th>ack p99</th><th>retries</th><th>dropped</th><th>errors</th></tr>"
        for summary in protocols {
            let s = summary.statistics
            html += "<tr><td><span class=\"swatch\" style=\"background:\(Self.color(summary.deviceProtocol))\"></span>"
                + "\(summary.deviceProtocol.name)</td><td>\(summary.devices)</td><td>\(s.readingsAcked)</td>"
                + "<td>\(s.bytesSent)</td><td>\(s.bytesReceived)</td><td>\(format(summary.bytesPerReading))</td>"
                + "<td>\(summary.ratioToBest.map { format($0) + "×" } ?? "–")</td>"
                + "<td>\(milliseconds(summary.latency.p50Ns))</td><td>\(milliseconds(summary.latency.p99Ns))</td>"
                + "<td>\(s.batchesRetried)</td><td>\(s.batchesDropped)</td><td>\(s.errors.total)</td></tr>"
        }
        html += "</table>"
        if showsLinkTable {
            html += "<h2>Link: TLS and TCP</h2><table><tr><th>protocol</th><th>handshakes full</th><th>resumed</th>"
                + "<th>PSK</th><th>TLS handshake bytes</th><th>TLS record bytes</th><th>segments sent</th>"
                + "<th>segments received</th><th>est. link B/reading</th></tr>"
            for summary in protocols {
                let s = summary.statistics
                html += "<tr><td>\(summary.deviceProtocol.name)</td><td>\(s.handshakes.full)</td>"
                    + "<td>\(s.handshakes.resumed)</td><td>\(s.handshakes.psk)</td><td>\(s.tls.handshakeTotal)</td>"
                    + "<td>\(s.tls.recordTotal)</td><td>\(s.segmentsSent)</td><td>\(s.segmentsReceived)</td>"
                    + "<td>\(format(summary.estimatedLinkBytesPerReading))</td></tr>"
            }
            html += "</table><p class=\"meta\">Estimated link bytes = socket bytes + 52 B per TCP segment (IPv4 + "
                + "TCP headers with timestamps): an estimate.</p>"
        }
        if let check = crossCheck {
            html += "<h2>Cross-check with the collector</h2><p class=\"\(check.isConsistent ? "ok" : "bad")\">"
                + (check.isConsistent
                    ? "OK: \(check.devicesCompared) devices agree with the collector to the byte"
                    : "MISMATCH: \(check.deviceMismatches.count) devices differ from the collector") + "</p>"
        }
        html += "<h2>Devices</h2><table id=\"devices\"><tr><th>device</th><th>protocol</th><th>readings acked</th>"
            + "<th>bytes sent</th><th>bytes received</th><th>B/reading</th><th>retries</th><th>errors</th></tr>"
        for device in devices {
            let s = device.statistics
            html += "<tr><td>\(escape(device.deviceID))</td><td>\(device.deviceProtocol.name)</td>"
                + "<td>\(s.readingsAcked)</td><td>\(s.bytesSent)</td><td>\(s.bytesReceived)</td>"
                + "<td>\(format(s.bytesPerReading))</td><td>\(s.batchesRetried)</td><td>\(s.errors.total)</td></tr>"
        }
        html += """
            </table>
            <script>
            document.querySelectorAll('#devices th').forEach((th, column) => th.addEventListener('click', () => {
              const table = th.closest('table'), rows = [...table.rows].slice(1);
              const number = (row) => parseFloat(row.cells[column].textContent);
              const descending = th.dataset.order !== 'desc'; th.dataset.order = descending ? 'desc' : 'asc';
              rows.sort((a, b) => {
                const x = number(a), y = number(b);
                const order = isNaN(x) || isNaN(y) ? a.cells[column].textContent.localeCompare(b.cells[column].textContent) : x - y;
                return descending ? -order : order;
              });
              rows.forEach((row) => table.appendChild(row));
            }));
            </script></body></html>
            """
        return html
    }

    /// Horizontal bars of bytes per reading per protocol, labelled with the value and the ratio to the cheapest.
    func barChart() -> String {
        let rows = protocols.compactMap { summary in summary.bytesPerReading.map { (summary, $0) } }
        let largest = rows.map(\.1).max() ?? 1
        let width = 980.0
        let labelWidth = 120.0
        let barHeight = 34.0
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 \(Int(width)) "
            + "\(Int(Double(rows.count) * (barHeight + 14) + 10))\" role=\"img\" aria-label=\"bytes per reading\">"
        for (index, (summary, value)) in rows.enumerated() {
            let y = 10 + Double(index) * (barHeight + 14)
            let length = max((width - labelWidth - 220) * value / largest, 2)
            let ratio = summary.ratioToBest.map { " (" + format($0) + "×)" } ?? ""
            svg += "<text x=\"0\" y=\"\(y + 22)\" font-size=\"15\" fill=\"#1d232b\">\(summary.deviceProtocol.name)</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(length)\" height=\"\(barHeight)\" rx=\"4\" "
                + "fill=\"\(Self.color(summary.deviceProtocol))\"/>"
            svg += "<text x=\"\(labelWidth + length + 10)\" y=\"\(y + 22)\" font-size=\"15\" fill=\"#1d232b\">"
                + "\(format(value)) B/reading\(ratio)</text>"
        }
        return svg + "</svg>"
    }

    private func format(_ value: Double?) -> String {
        guard let value else { return "–" }
        let hundredths = (value * 100).rounded()
        let whole = Int(hundredths) / 100
        let fraction = Int(hundredths) % 100
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    private func milliseconds(_ ns: UInt64?) -> String {
        guard let ns else { return "–" }
        return format(Double(ns) / 1e6) + " ms"
    }

    private func escape(_ value: some CustomStringConvertible) -> String {
        var out = ""
        for character in value.description {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
