// Where in its local day and week a simulated reading falls: the models' daily cycles (warm afternoons, occupied
// offices, working shifts) follow the device's local time, and devices are spread over time zones so a fleet's
// readings do not all peak at the same instant.

import SplitMix

/// A device's local time: Unix ms shifted by the device's UTC offset.
struct LocalTime: Equatable, Sendable {
    /// Milliseconds in a day.
    static let dayMs: Int64 = 86_400_000
    /// The device's offset from UTC in ms.
    let offsetMs: Int64

    /// The local time of a device `offsetMs` ahead of UTC.
    init(offsetMs: Int64) {
        self.offsetMs = offsetMs
    }

    /// A device's local time with its time zone drawn from its seed: a whole quarter hour within UTC−12…+12.
    init(deviceSeed: UInt64) {
        var random = SplitMix64(seed: SplitMix64.mix(deviceSeed, 0x7A))
        let quarterHours = Int64(random.next() % 97) - 48
        self.init(offsetMs: quarterHours * 900_000)
    }

    /// The fraction of the local day elapsed at `ms`, in [0, 1).
    @inline(__always)
    func dayFraction(_ ms: Int64) -> Double {
        let local = (ms &+ offsetMs) % Self.dayMs
        return Double(local < 0 ? local + Self.dayMs : local) / Double(Self.dayMs)
    }

    /// The local hour at `ms`, in [0, 24).
    @inline(__always)
    func hour(_ ms: Int64) -> Double { dayFraction(ms) * 24 }

    /// True on a local Saturday or Sunday (1970-01-01 was a Thursday).
    @inline(__always)
    func isWeekend(_ ms: Int64) -> Bool {
        var day = (ms &+ offsetMs) / Self.dayMs
        if (ms &+ offsetMs) % Self.dayMs < 0 { day -= 1 }
        let weekday = ((day + 3) % 7 + 7) % 7  // 0 = Monday
        return weekday >= 5
    }
}
