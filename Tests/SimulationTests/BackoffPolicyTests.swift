import Simulation
import SplitMix
import Testing

/// Exponential backoff: ceilings double to the cap; jitter stays within its bounds and spreads devices out.
@Suite struct BackoffPolicyTests {
    @Test func ceilingsDoubleFromTheFirstToTheCap() {
        let policy = BackoffPolicy()  // 100 ms doubling to 10 s
        let ceilings = (1...10).map { policy.ceilingNs(afterFailures: $0) / 1_000_000 }
        #expect(ceilings == [100, 200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000, 10_000])
        #expect(policy.ceilingNs(afterFailures: 1_000) == 10_000_000_000)
        #expect(policy.ceilingNs(afterFailures: 0) == 100_000_000)
    }

    @Test(arguments: [1, 3, 8, 40])
    func jitterTakesOffAtMostItsShareOfTheCeiling(failures: Int) {
        let policy = BackoffPolicy(jitter: 0.5)
        let ceiling = policy.ceilingNs(afterFailures: failures)
        var random = SplitMix64(seed: UInt64(failures))
        var waits: Set<UInt64> = []
        for _ in 0..<2_000 {
            let wait = policy.delayNs(afterFailures: failures, random: &random)
            #expect(wait > ceiling / 2 && wait <= ceiling)
            waits.insert(wait)
        }
        #expect(waits.count > 1_900)  // spread out, not lock-step
        let lowest = Double(waits.min()!) / Double(ceiling)
        let highest = Double(waits.max()!) / Double(ceiling)
        #expect(lowest < 0.52 && highest > 0.98)  // and over the whole allowed range
    }

    @Test func noJitterWaitsExactlyTheCeiling() {
        let policy = BackoffPolicy(initialNs: 1_000, maxNs: 5_000, multiplier: 3, jitter: 0)
        var random = SplitMix64(seed: 9)
        #expect((1...4).map { policy.delayNs(afterFailures: $0, random: &random) } == [1_000, 3_000, 5_000, 5_000])
    }
}
