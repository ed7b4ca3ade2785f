// Durations as the loop's timer deadlines use them: whole nanoseconds of the monotonic clock (module Clocks).

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
