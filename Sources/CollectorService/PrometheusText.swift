import Foundation
import Storage

/// The `/metrics` body in the Prometheus text exposition format 0.0.4: `# HELP`/`# TYPE` lines, samples with
/// escaped label values, and histograms as cumulative buckets in seconds, so the metrics code only names what it
/// reports.
struct PrometheusText {
    private(set) var text = ""

    /// A histogram family: cumulative buckets in seconds, sum and count.
    mutating func histogram(_ name: String, _ help: String, _ histogram: LatencyHistogram) {
        family(name, "histogram", help)
        var cumulative: UInt64 = 0
        for (bound, count) in zip(histogram.boundsMs, histogram.counts) {
            cumulative += count
            sample(name + "_bucket", [("le", "\(bound / 1000)")], Int64(cumulative))
        }
        cumulative += histogram.counts.last ?? 0
        sample(name + "_bucket", [("le", "+Inf")], Int64(cumulative))
        sample(name + "_sum", [], histogram.sumMs / 1000)
        sample(name + "_count", [], Int64(cumulative))
    }

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Int64) {
        text += "\(name)\(Self.labels(labels)) \(value)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        text += "\(name)\(Self.labels(labels)) \(value)\n"
    }

    private static func labels(_ labels: [(String, String)]) -> String {
        guard !labels.isEmpty else { return "" }
        let escaped = labels.map { name, value in
            let text = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(text)\""
        }
        return "{" + escaped.joined(separator: ",") + "}"
    }
}
