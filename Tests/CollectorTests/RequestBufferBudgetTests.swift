// The budget for partially received requests, and the throttle for attacker-triggered log lines.

import Testing

@testable import Collector
@testable import CollectorService

@Suite struct RequestBufferBudgetTests {
    @Test func reservationsStopAtTheLimitAndReleasesGiveBack() {
        let budget = RequestBufferBudget(limit: 100)
        #expect(budget.reserve(60) && budget.reserve(40))
        #expect(!budget.reserve(1), "nothing is reserved past the limit")
        #expect(budget.usedBytes == 100)
        budget.release(30)
        #expect(budget.reserve(30) && budget.usedBytes == 100)
        #expect(budget.reserve(0), "an empty reservation always fits")
    }

    @Test func aConnectionsShareAndTheProcessBudgetBothApply() {
        let budget = RequestBufferBudget(limit: 1000)
        var first = HeldRequestBytes()
        var second = HeldRequestBytes()
        #expect(first.update(1, to: 300, perConnectionLimit: 500, budget: budget) == nil)
        #expect(first.update(3, to: 150, perConnectionLimit: 500, budget: budget) == nil)
        #expect(first.update(3, to: 201, perConnectionLimit: 500, budget: budget) == .connection(limit: 500))
        #expect(first.total == 450 && budget.usedBytes == 450, "a refused update changes nothing")
        #expect(second.update(1, to: 500, perConnectionLimit: 600, budget: budget) == nil)
        #expect(second.update(3, to: 60, perConnectionLimit: 600, budget: budget) == .process(limit: 1000))
        // A stream's message completes (held drops), then another stream is reset, then the connection closes.
        #expect(first.update(1, to: 0, perConnectionLimit: 500, budget: budget) == nil)
        #expect(budget.usedBytes == 650)
        first.release(3, budget: budget)
        #expect(first.total == 0 && budget.usedBytes == 500)
        second.releaseAll(budget: budget)
        #expect(second.total == 0 && budget.usedBytes == 0)
    }
}

@Suite struct LogThrottleTests {
    @Test func oneLinePerKindPerIntervalCountingWhatWasLeftOut() {
        let throttle = LogThrottle(intervalMs: 10_000)
        var lines: [String] = []
        for ms: Int64 in [0, 1, 2, 5_000, 10_000, 10_001, 25_000] {
            throttle.log("flood", atMs: ms) { lines.append("flood@\(ms) +\($0)") }
        }
        throttle.log("other", atMs: 3) { lines.append("other@3 +\($0)") }
        #expect(lines == ["flood@0 +0", "flood@10000 +3", "flood@25000 +1", "other@3 +0"])
    }
}
