// Query-string parameters of the read API, parsed strictly: a bad value is a 400 that names the parameter.

import Telemetry

/// Typed access to a request's query parameters.
struct QueryParameters {
let request: RESTRequest

    /// A parameter that must be present.
    func required(_ name: String) throws(RESTError) -> String {
        guard let value = request.queryValue(name), !value.isEmpty else {
            throw .badRequest("query parameter \(name) is required")
        }
        return value
    }

    /// A sensor name, validated.
    func sensor(_ name: String = "sensor", required isRequired: Bool = false) throws(RESTError) -> String? {
        guard let value = request.queryValue(name), !value.isEmpty else {
            if isRequired { throw .badRequest("query parameter \(name) is required") }
            return nil
        }
        guard Identifiers.isValidSensorName(value) else {
            throw .badRequest("query parameter \(name) must match [a-z0-9_.-]{1,64}, got \"\(value)\"")
        }
        return value
    }

    /// A time: Unix milliseconds or RFC 3339 (`2026-11-21T12:00:00Z`, `2026-11-21T12:00:00.250+01:00`).
func time(_ name: String) throws(RESTError) -> Int64? {
        guard let value = request.queryValue(name), !value.isEmpty else { return nil }
        if let ms = Int64(value) { return ms }
        guard let ms = RFC3339.milliseconds(value) else {
            throw .badRequest("query parameter \(name) must be Unix milliseconds or an RFC 3339 time, got \"\(value)\"")
        }
        return ms
    }

    /// A whole number within `range`, or `defaultValue`.
    func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(RESTError) -> Int {
        guard let value = request.queryValue(name), !value.isEmpty else { return defaultValue }
        guard let number = Int(value), range.contains(number) else {
            throw .badRequest("query parameter \(name) must be a whole number within \(range.lowerBound)..."
                              + "\(range.upperBound), got \"\(value)\"")
        }
        return number
    }

    /// A duration in ms: `60000`, `500ms`, `10s`, `5m`, `1h`, `1d`.
func duration(_ name: String) throws(RESTError) -> Int64? {
        guard let value = request.queryValue(name), !value.isEmpty else { return nil }
        if let ms = Int64(value), ms > 0 { return ms }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, scale) in units where value.hasSuffix(suffix) {
            let number = value.dropLast(suffix.count)
            if suffix == "s" && number.hasSuffix("m") { continue }
            if let amount = Int64(number), amount > 0, amount <= Int64.max / scale { return amount * scale }
        }
        throw .badRequest("query parameter \(name) must be a positive duration like 60000, 10s, 5m, 1h or 1d, got \"\(value)\"")
    }

    /// Refuses a range that would need more than `limit` buckets of `stepMs`; overflow-safe for any Int64 range.
    static func checkBucketCount(from: Int64?, to: Int64?, stepMs: Int64, limit: Int64 = 100_000) throws(RESTError) {
        guard let from, let to, to > from else { return }
        let (span, overflow) = to.subtractingReportingOverflow(from)
        if overflow || span / stepMs > limit {
            throw .badRequest("query parameter step is too small for the range: more than \(limit) buckets")
        }
    }

    /// One of `choices`, or `defaultValue`.
    func choice(_ name: String, _ choices: [String], default defaultValue: String) throws(RESTError) -> String {
        guard let value = request.queryValue(name), !value.isEmpty else { return defaultValue }
        guard choices.contains(value) else {
            throw .badRequest("query parameter \(name) must be one of \(choices.joined(separator: ", ")), got \"\(value)\"")
        }
        return value
    }
}
