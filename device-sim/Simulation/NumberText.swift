// Numbers as people read them in the terminal report and the progress line, without Foundation:
//
//     grouped(1234567)          "1,234,567"      thousands separated by commas
//     fixed(5.2, decimals: 2)   "5.20"           rounded half away from zero
//     bytes(12_345_678)         "12.3 MB"        decimal units (1 kB = 1000 B), three significant digits
//     milliseconds(842_000)     "0.842 ms"       ns shown in ms: 3 decimals below 1 ms, 2 below 10, 1 below 100,
//                                                then whole ms grouped ("1,250 ms")
//     span(93_784_000)          "1d 02:03:04"    a simulated span; "00:10:00" under a day
//     period(10_000)            "10 s"           a flag's period: whole seconds as "s", otherwise "ms"

/// Formatting helpers for the human-readable outputs; see above.
enum NumberText {
    /// `value` with commas between groups of three digits.
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// `value` with commas between groups of three digits.
    static func grouped(_ value: Int) -> String { grouped(Int64(value)) }

    /// `value` rounded to `decimals` places, always showing them; integer part grouped.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return value.description }
        let units = Int64(scaled)
        let divisor = Int64(scale)
        let whole = grouped(units / divisor)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard decimals > 0 else { return sign + whole }
        let fraction = String(units % divisor)
        return sign + whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    /// A byte count in decimal units with three significant digits (`812 B`, `12.3 kB`, `4.57 MB`).
    static func bytes(_ value: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var amount = Double(value)
        var unit = 0
        while abs(amount) >= 999.5 && unit < units.count - 1 {
            amount /= 1000
            unit += 1
        }
        if unit == 0 { return "\(value) B" }
        let decimals = abs(amount) < 9.995 ? 2 : (abs(amount) < 99.95 ? 1 : 0)
        return fixed(amount, decimals: decimals) + " " + units[unit]
    }

    /// A duration given in ns, shown in ms with precision to match its size.
    static func milliseconds(_ ns: UInt64) -> String {
        let ms = Double(ns) / 1e6
        let decimals = ms < 1 ? 3 : (ms < 10 ? 2 : (ms < 100 ? 1 : 0))
        return fixed(ms, decimals: decimals) + " ms"
    }

    /// A simulated span given in ms: `hh:mm:ss`, with whole days in front when there are any.
    static func span(_ ms: Int64) -> String {
        let totalSeconds = max(ms, 0) / 1000
        let days = totalSeconds / 86_400
        let hours = totalSeconds / 3_600 % 24
        let minutes = totalSeconds / 60 % 60
        let seconds = totalSeconds % 60
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let clock = "\(two(hours)):\(two(minutes)):\(two(seconds))"
        return days > 0 ? "\(days)d \(clock)" : clock
    }

    /// A period given in ms as the flags spell it: `10 s`, `1500 ms`.
    static func period(_ ms: Int64) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}
