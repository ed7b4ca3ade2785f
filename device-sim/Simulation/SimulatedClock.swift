// Simulated time: the Unix milliseconds at which a simulated device takes its readings, and how it maps to the real
// monotonic clock the event loop sleeps on.
//
// Paced (`--speedup s`): simulated time runs s times faster than real time from a common origin,
//
//     simulatedMs(real) = startMs + ⌊(real − realOriginNs) × s / 10^6⌋
//
// and `realNs(atSimulated:)` is its inverse rounded up: the earliest real instant at which that simulated
// millisecond has been reached, so a wake scheduled for a batch boundary always finds the boundary passed.
//
// Max-rate (`--max-rate`): simulated time does not follow the real clock at all. Each device advances its own
// simulated time by one batch period per batch it produces, and produces the next batch as soon as it can send it;
// the clock then only supplies `startMs`.

/// Maps real monotonic time to simulated Unix ms; see above.
public struct SimulatedClock: Equatable, Sendable {
    /// How simulated time advances.
    public enum Pacing: Equatable, Sendable {
        /// Simulated ms per real ms (1 is real time; 1440 is a day per minute).
        case speedup(Double)
        /// As fast as acknowledgements come back; simulated time advances per batch.
        case maxRate
    }

    /// Simulated Unix ms at the real origin.
    public let startMs: Int64
    /// How simulated time advances.
    public let pacing: Pacing
    /// The real monotonic instant, in ns, at which simulated time is `startMs`.
    public let realOriginNs: UInt64

    /// A paced clock: simulated time is `start` (Unix ms) at real monotonic time `realOrigin` (ns) and then runs
    /// `speedup` times faster than real time.
    public init(start: Int64, speedup: Double, realOrigin: UInt64 = 0) {
        precondition(speedup > 0 && speedup.isFinite, "speedup must be a positive number")
        self.startMs = start
        self.pacing = .speedup(speedup)
        self.realOriginNs = realOrigin
    }

    /// A max-rate clock whose devices start their simulated time at `start` (Unix ms).
    public static func maxRate(start: Int64, realOrigin: UInt64 = 0) -> SimulatedClock {
        SimulatedClock(start: start, pacing: .maxRate, realOrigin: realOrigin)
    }

    private init(start: Int64, pacing: Pacing, realOrigin: UInt64) {
        self.startMs = start
        self.pacing = pacing
        self.realOriginNs = realOrigin
    }

    /// True in max-rate mode.
    public var isMaxRate: Bool { pacing == .maxRate }

    /// Simulated Unix ms at real monotonic time `real` (ns); `startMs` before the origin, and always in max-rate
    /// mode (where devices keep their own simulated time).
    public func simulatedMs(atReal real: UInt64) -> Int64 {
        guard case .speedup(let speedup) = pacing, real > realOriginNs else { return startMs }
        return startMs + Int64((Double(real - realOriginNs) * speedup / 1e6).rounded(.down))
    }

    /// The earliest real monotonic time (ns) at which simulated time has reached `ms`; the origin for times at or
    /// before the start, and always in max-rate mode.
    public func realNs(atSimulated ms: Int64) -> UInt64 {
        guard case .speedup(let speedup) = pacing, ms > startMs else { return realOriginNs }
        var real = realOriginNs + UInt64((Double(ms - startMs) * 1e6 / speedup).rounded(.up))
        // Rounding of the two divisions may leave the result a few ns short (or long): step to the exact boundary.
        while simulatedMs(atReal: real) < ms { real += 1 }
        while real > realOriginNs && simulatedMs(atReal: real - 1) >= ms { real -= 1 }
        return real
    }

    /// Real nanoseconds that `ms` simulated milliseconds take (rounded up); 0 in max-rate mode.
    public func realDurationNs(ofSimulatedMs ms: Int64) -> UInt64 {
        guard case .speedup(let speedup) = pacing, ms > 0 else { return 0 }
        return UInt64((Double(ms) * 1e6 / speedup).rounded(.up))
    }
}
