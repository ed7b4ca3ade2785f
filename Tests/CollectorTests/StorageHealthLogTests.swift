import Storage
import Store
import Testing

@testable import Collector
@testable import CollectorService

/// The log says a storage failure once, its recovery once, and stays quiet through a flood or a flapping disk.
@Suite struct StorageHealthLogTests {
    static let full = StoreError.storageFailure(code: 13, operation: "commit", message: "database or disk is full")
    static let ioError = StoreError.storageFailure(code: 778, operation: "commit", message: "disk I/O error")

    /// A health that has seen `spells` failing spells and `writes` failed writes, failing now with `failure`.
    static func health(
        spells: UInt64, writes: UInt64, failing failure: StoreError?, sinceMs: Int64 = 0
    ) -> StorageHealth {
        var health = StorageHealth()
        health.failureSpells = spells
        health.failedWrites = writes
        health.currentFailure = failure
        health.lastFailure = failure ?? (spells > 0 ? full : nil)
        health.failingSinceMs = failure == nil ? nil : sinceMs
        return health
    }

    @Test func aHealthyStoreLogsNothing() {
        var log = StorageHealthLog()
        for second in 0..<100 {
            #expect(log.observe(StorageHealth(), nowMs: Int64(second) * 1000).isEmpty)
        }
    }

    @Test func aLongFailureIsOneErrorLineThenOneReminderAMinuteThenOneRecoveryLine() {
        var log = StorageHealthLog(quietMs: 60_000)
        var lines: [StorageHealthLog.Line] = []
        // Failing from t = 1 s to t = 150 s while requests keep failing (the count grows at every look).
        for second in stride(from: 2, through: 150, by: 2) {
            let health = Self.health(spells: 1, writes: UInt64(second * 50), failing: Self.full, sinceMs: 1_000)
            lines += log.observe(health, nowMs: Int64(second) * 1000)
        }
        lines += log.observe(Self.health(spells: 1, writes: 7_600, failing: nil), nowMs: 152_000)
        lines += log.observe(Self.health(spells: 1, writes: 7_600, failing: nil), nowMs: 154_000)
        #expect(lines.map(\.level) == [.error, .error, .error, .notice])
        #expect(lines[0].message.hasPrefix("storage failing: "))
        #expect(lines[0].message.contains("database or disk is full"))
        #expect(lines[0].message.contains("UNAVAILABLE / 503"))
        #expect(lines[1].message.hasPrefix("storage still failing (for 61 s)"))
        #expect(lines[3].message.hasPrefix("storage recovered: writes commit again after 151 s"))
        #expect(lines[3].message.contains("(7500 more failed writes since the failure was reported)"))
    }

    @Test func aFlappingDiskWritesAtMostOneErrorAndOneRecoveryPerQuietPeriod() {
        var log = StorageHealthLog(quietMs: 60_000)
        var lines: [(Int64, StorageHealthLog.Line)] = []
        // Every 2 s look alternates: failing (a new spell), then healthy again; for two minutes.
        var spells: UInt64 = 0
        for look in 0..<60 {
            let isFailing = look % 2 == 0
            if isFailing { spells += 1 }
            let health = Self.health(spells: spells, writes: spells * 3, failing: isFailing ? Self.ioError : nil)
            let nowMs = Int64(look) * 2_000
            lines += log.observe(health, nowMs: nowMs).map { (nowMs, $0) }
        }
        #expect(lines.map(\.1.level) == [.error, .notice, .error, .notice])
        #expect(lines.map(\.0) == [0, 2_000, 60_000, 62_000])
        // The second report counts the spells the rate limit kept quiet (looks 2, 4, ..., 58: 14 spells).
        #expect(lines[2].1.message.contains("14 more failing spells since the last report"))
    }

    @Test func aSpellBetweenTwoLooksIsOneWarning() {
        var log = StorageHealthLog(quietMs: 60_000)
        #expect(log.observe(StorageHealth(), nowMs: 0).isEmpty)
        let lines = log.observe(Self.health(spells: 1, writes: 4, failing: nil), nowMs: 2_000)
        #expect(lines.map(\.level) == [.warning])
        #expect(lines.first?.message == """
            storage failed briefly and recovered: \(Self.full) (4 failed writes in total)
            """)
        #expect(log.observe(Self.health(spells: 1, writes: 4, failing: nil), nowMs: 4_000).isEmpty)
    }
}
