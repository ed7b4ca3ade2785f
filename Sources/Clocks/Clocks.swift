// The process's two clocks, read in one place: wall-clock time for what is recorded (ingest times, history buckets,
// log lines, revocation times) and monotonic time for what is measured (timer deadlines, idle bookkeeping,
// transaction bounds, latencies), which never jumps when the wall clock is set.

import Glibc

/// Wall-clock time: what a timestamp means to a person or another machine.
public enum WallClock {
    /// Unix milliseconds (CLOCK_REALTIME).
    @inline(__always)
    public static func nowMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

/// Monotonic time: only differences mean anything, and they never go backwards.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot), CLOCK_MONOTONIC.
    @inline(__always)
    public static func nowNs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
}
