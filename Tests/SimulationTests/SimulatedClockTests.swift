import Simulation
import Testing

/// Real monotonic time ⇄ simulated Unix ms, paced and max-rate.
@Suite struct SimulatedClockTests {
    @Test func realTimeRunsSpeedupTimesFasterFromTheOrigin() {
        let clock = SimulatedClock(start: 1_000_000, speedup: 60, realOrigin: 5_000_000_000)
        #expect(clock.simulatedMs(atReal: 0) == 1_000_000)  // before the origin: the start
        #expect(clock.simulatedMs(atReal: 5_000_000_000) == 1_000_000)
        #expect(clock.simulatedMs(atReal: 6_000_000_000) == 1_060_000)  // one real second = one simulated minute
        #expect(clock.simulatedMs(atReal: 5_000_016_666) == 1_000_000)
        #expect(clock.simulatedMs(atReal: 5_000_016_667) == 1_000_001)
    }

    @Test(arguments: [1.0, 60, 1_440, 0.5, 3.7, 100_000])
    func realNsIsTheFirstInstantTheSimulatedMillisecondIsReached(speedup: Double) {
        let clock = SimulatedClock(start: 1_732_190_400_000, speedup: speedup, realOrigin: 123_456_789)
        for offset: Int64 in [1, 7, 999, 10_000, 86_400_000, 604_800_000] {
            let target = clock.startMs + offset
            let real = clock.realNs(atSimulated: target)
            #expect(clock.simulatedMs(atReal: real) >= target)
            #expect(clock.simulatedMs(atReal: real - 1) < target)
        }
        #expect(clock.realNs(atSimulated: clock.startMs - 5) == 123_456_789)
    }

    @Test func maxRateIgnoresTheRealClock() {
        let clock = SimulatedClock.maxRate(start: 42)
        #expect(clock.isMaxRate)
        #expect(clock.simulatedMs(atReal: 10_000_000_000) == 42)
        #expect(clock.realNs(atSimulated: 10_000) == 0)
        #expect(clock.realDurationNs(ofSimulatedMs: 10_000) == 0)
        #expect(SimulatedClock(start: 0, speedup: 10).realDurationNs(ofSimulatedMs: 10_000) == 1_000_000_000)
    }
}
