// What the log says about the storage failing, and how often.
//
// Rule: the collector looks at the store's health every counter flush (2 s) and logs a change once: one ERROR line
// when writes start failing (with the error, and that ingest answers UNAVAILABLE / 503 meanwhile), one NOTICE line
// when they succeed again (how long it lasted, how many writes failed). A spell that began and ended between two
// looks gets one WARN line. ERROR and WARN lines are rate-limited to one per `quietMs` (60 s): spells in between
// are counted and reported with the next line, and a failure that lasts gets one reminder per `quietMs`. A flood of
// refused requests therefore writes a handful of lines, not one per request.
import CollectorService
import Storage

/// Turns successive looks at the store's health into the few log lines an operator needs. A value type owned by
/// whoever looks (the collector's flush timer); tested without a store.
struct StorageHealthLog {
    /// A line to log.
    struct Line: Equatable {
        var level: Log.Level
        var message: String
    }

    /// Least time between two ERROR/WARN lines, ms.
    let quietMs: Int64
    /// Spells seen so far (the health's running count).
    private var seenSpells: UInt64 = 0
    /// The failure an ERROR line announced and no NOTICE line has ended yet: since when, and the failed-write
    /// count at the announcement.
    private var announced: (sinceMs: Int64, failedWrites: UInt64)?
    /// When the last ERROR/WARN line was written (nil: never).
    private var lastLineMs: Int64?
    /// Spells not reported yet because of the rate limit.
    private var unreportedSpells: UInt64 = 0

    /// A log that writes an ERROR or WARN line at most every `quietMs`.
    init(quietMs: Int64 = 60_000) {
        self.quietMs = quietMs
    }

    /// The lines to log for `health` seen at wall-clock `nowMs`.
    mutating func observe(_ health: StorageHealth, nowMs: Int64) -> [Line] {
        unreportedSpells += health.failureSpells &- seenSpells
        seenSpells = health.failureSpells
        let mayWrite = lastLineMs.map { nowMs - $0 >= quietMs } ?? true
        if let failure = health.currentFailure {
            guard mayWrite else { return [] }
            let sinceMs = health.failingSinceMs ?? nowMs
            let others = announced == nil ? unreportedSpells &- 1 : unreportedSpells
            let more = others > 0 ? "; \(others) more failing spells since the last report" : ""
            let line: String
            if let announced {
                line = "storage still failing (for \(Self.duration(nowMs - announced.sinceMs))): \(failure); "
                    + "ingest answers UNAVAILABLE / 503 (\(health.failedWrites) failed writes in total\(more))"
            } else {
                line = "storage failing: \(failure); ingest answers UNAVAILABLE / 503 until a write commits "
                    + "(\(health.failedWrites) failed writes in total\(more))"
                announced = (sinceMs, health.failedWrites)
            }
            lastLineMs = nowMs
            unreportedSpells = 0
            return [Line(level: .error, message: line)]
        }
        if let announced {
            self.announced = nil
            let failed = health.failedWrites &- announced.failedWrites
            return [Line(level: .notice, message: """
                storage recovered: writes commit again after \(Self.duration(nowMs - announced.sinceMs)) \
                (\(failed) more failed writes since the failure was reported)
                """)]
        }
        guard unreportedSpells > 0, mayWrite else { return [] }
        let failure = health.lastFailure.map { "\($0)" } ?? "unknown error"
        let times = unreportedSpells == 1 ? "briefly" : "\(unreportedSpells) times"
        lastLineMs = nowMs
        unreportedSpells = 0
        return [Line(level: .warning, message: """
            storage failed \(times) and recovered: \(failure) (\(health.failedWrites) failed writes in total)
            """)]
    }

    private static func duration(_ ms: Int64) -> String {
        ms < 10_000 ? "\(Double(ms / 100) / 10) s" : "\(ms / 1000) s"
    }
}
