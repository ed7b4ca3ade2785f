// Rate-limited logging for events an attacker can trigger at will (refused connections, floods, timeouts): at most
// one line per kind per interval, the next line saying how many were left out, so a flood cannot flood the log.

import Clocks
import Synchronization

/// Decides which occurrences of an event kind get a log line.
package final class LogThrottle: Sendable {
    private let intervalMs: Int64
    private let state = Mutex<[String: (lastMs: Int64, suppressed: Int)]>([:])

    /// At most one line per kind every `intervalMs` (10 s by default).
    package init(intervalMs: Int64 = 10_000) { self.intervalMs = intervalMs }

    /// Calls `write` with the number of occurrences of `kind` left out since its last line, when `kind` may log now.
    package func log(_ kind: String, atMs now: Int64 = WallClock.nowMs(), _ write: (_ suppressed: Int) -> Void) {
        let suppressed: Int? = state.withLock { entries in
            if let entry = entries[kind], now - entry.lastMs < intervalMs {
                entries[kind]!.suppressed += 1
                return nil
            }
            let left = entries[kind]?.suppressed ?? 0
            entries[kind] = (now, 0)
            return left
        }
        if let suppressed { write(suppressed) }
    }
}

extension Int {
    /// `" (N more like it since the last one)"` for a throttled log line, or nothing.
    package var suppressedSuffix: String { self > 0 ? " (\(self) more like it since the last such line)" : "" }
}
