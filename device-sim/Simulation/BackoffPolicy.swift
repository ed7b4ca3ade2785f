// Exponential backoff with jitter, for reconnecting and re-sending after a retryable failure.
//
// After the n-th consecutive failure (n ≥ 1) a device waits
//
//     ceiling(n) = min(maxNs, initialNs × multiplier^(n−1))
//     wait(n)    = ceiling(n) × (1 − jitter × u),   u uniform in [0, 1)
//
// so the wait lies in (ceiling × (1 − jitter), ceiling]: it grows with every failure until the cap, never exceeds
// the cap, and devices that failed together spread out instead of reconnecting in lock-step. The defaults are 100 ms
// doubling to 10 s with up to half the ceiling taken off ("equal jitter"). The streak resets on an acknowledgement.

import SplitMix

/// How long to wait before the next attempt; see above.
public struct BackoffPolicy: Equatable, Sendable {
    /// The first ceiling, in ns.
    public var initialNs: UInt64
    /// The largest ceiling, in ns.
    public var maxNs: UInt64
    /// Growth of the ceiling per consecutive failure.
    public var multiplier: Double
    /// The largest fraction of the ceiling that jitter takes off, in [0, 1].
    public var jitter: Double

    /// A policy; the defaults are 100 ms doubling to 10 s with equal jitter.
    public init(
        initialNs: UInt64 = 100_000_000, maxNs: UInt64 = 10_000_000_000, multiplier: Double = 2, jitter: Double = 0.5
    ) {
        precondition(initialNs > 0 && maxNs >= initialNs, "backoff needs 0 < initial ≤ max")
        precondition(multiplier >= 1 && (0...1).contains(jitter), "backoff needs multiplier ≥ 1 and jitter in 0...1")
        self.initialNs = initialNs
        self.maxNs = maxNs
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The ceiling after `failures` consecutive failures (at least 1).
    public func ceilingNs(afterFailures failures: Int) -> UInt64 {
        var ceiling = Double(initialNs)
        for _ in 1..<max(failures, 1) {
            ceiling *= multiplier
            if ceiling >= Double(maxNs) { return maxNs }
        }
        return min(UInt64(ceiling), maxNs)
    }

    /// The wait after `failures` consecutive failures, jittered with `random`.
    public func delayNs(afterFailures failures: Int, random: inout SplitMix64) -> UInt64 {
        let ceiling = ceilingNs(afterFailures: failures)
        let taken = Double(ceiling) * jitter * random.nextUnit()
        return max(ceiling - UInt64(taken), 1)
    }
}
