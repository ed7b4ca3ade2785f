import Foundation
import Glibc

/// One-line log records on standard error: UTC time, level, message. Thread-safe (one write per line).
/// Messages never contain credentials: callers pass device ids and statuses, never header values they do not own.
public struct Log: Sendable {
    /// Severity of a record.
    public enum Level: String, Sendable {
        case info = "INFO"
        /// Start and stop lines: written even when quiet (tools read the listening address from them).
        case notice = "NOTICE"
        case warning = "WARN"
        case error = "ERROR"
    }

    /// Whether info records are written.
    public var isVerbose: Bool

    /// A log on standard error; `isVerbose: false` keeps only warnings and errors (`--quiet`).
    public init(isVerbose: Bool = true) {
        self.isVerbose = isVerbose
    }

    /// Routine events a person may want when looking into something (suppressed by `--quiet`).
    public func info(_ message: @autoclosure () -> String) { write(.info, message()) }
    /// Lifecycle events: listening, stopping, stopped.
    public func notice(_ message: @autoclosure () -> String) { write(.notice, message()) }
    /// Something is wrong but the collector goes on (a client refused, a retry).
    public func warning(_ message: @autoclosure () -> String) { write(.warning, message()) }
    /// Something is wrong with the collector itself (the storage failing).
    public func error(_ message: @autoclosure () -> String) { write(.error, message()) }

    private func write(_ level: Level, _ message: String) {
        if level == .info && !isVerbose { return }
        Self.writeToStandardError("\(Self.timestamp()) \(level.rawValue) \(message)\n")
    }

    /// Writes `line` to standard error with write(2), dropping what cannot be written. Not `FileHandle.write`,
    /// which traps on any error: a full disk (ENOSPC) or a file-size limit (EFBIG) under the log file would
    /// otherwise kill the collector at its next log line.
    public static func writeToStandardError(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    static func timestamp() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        var parts = tm()
        var seconds = time.tv_sec
        gmtime_r(&seconds, &parts)
        let millis = time.tv_nsec / 1_000_000
        func pad(_ n: Int32, _ width: Int = 2) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(width - text.count, 0)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T\(pad(parts.tm_hour)):"
            + "\(pad(parts.tm_min)):\(pad(parts.tm_sec)).\(pad(Int32(millis), 3))Z"
    }
}
