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

/// RFC 3339 date-times to Unix milliseconds.
enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil when malformed or out of range.
    static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54 || bytes[10] == 0x74,
            bytes[13] == 0x3A, bytes[16] == 0x3A, let year = number(0, 4), let month = number(5, 2),
            let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if index < bytes.count && bytes[index] == 0x2E {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            // Any number of fraction digits is valid RFC 3339; milliseconds keep the first three.
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        if bytes[index] == 0x5A || bytes[index] == 0x7A {
            index += 1
        } else if bytes[index] == 0x2B || bytes[index] == 0x2D {
            let sign: Int64 = bytes[index] == 0x2D ? -1 : 1
            guard let offsetHours = number(index + 1, 2), index + 3 < bytes.count, bytes[index + 3] == 0x3A,
                let offsetMins = number(index + 4, 2)
            else { return nil }
            offsetMinutes = sign * (offsetHours * 60 + offsetMins)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        // Days since the epoch (civil-from-days inverse, proleptic Gregorian).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = (month + 9) % 12
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
        return seconds * 1000 + millis
    }
}
