import Glibc

/// The two clocks the store reads: wall-clock time for what it records, monotonic time for what it measures.
enum Clocks {
    /// Wall-clock time, Unix milliseconds: ingest times (`first_seen_ms`, `committed_ms`) and history buckets.
    static func wallMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// Monotonic time in nanoseconds: transaction time bounds and commit latency.
    static func monotonicNs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
