// Loop time: CLOCK_MONOTONIC in nanoseconds, which never jumps with wall-clock changes.

import Glibc

/// Nanosecond timestamps for timer deadlines and idle bookkeeping.
enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot); only differences mean anything.
    @inline(__always)
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}

extension Duration {
    /// This duration in whole nanoseconds, clamped to zero for negative durations and to `UInt64.max / 2` for huge
    /// ones, so a deadline computed as `now + nanoseconds` cannot overflow.
    var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let limit = UInt64.max / 2
        if seconds >= Int64(limit / 1_000_000_000) { return limit }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}
