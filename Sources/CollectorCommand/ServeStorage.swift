// `collector serve`'s flags for how long the store keeps data: --retention deletes whole chunks of readings past
// the horizon in the background; --rollup keeps per-step aggregates of what retention deleted for longer. Both are
// off by default: the store keeps every reading.

import CollectorService
import Flags
import Store

let storageFlagSpecs = [
    FlagSpec("retention", value: "DURATION",
             help: "delete readings older than this (whole chunks, in the background; e.g. 90d, 1y; at least 1h); "
                 + "default: keep everything"),
    FlagSpec("rollup", value: "STEP:DURATION[,STEP:DURATION]",
             help: "with --retention, keep STEP aggregates (count, min, max, sum, last) of deleted readings for "
                 + "DURATION, e.g. 1h:2y; series queries whose step is a multiple of STEP include them"),
]

/// Reads --retention and --rollup into `configuration`; logs what will be deleted, and when.
func applyStorageFlags(_ flags: ParsedFlags, to configuration: inout StoreConfiguration, log: Log) throws(FlagError) {
    if let retention = try flags.milliseconds("retention") {
        guard retention >= 3_600_000 else {
            throw FlagError("--retention: expected at least 1h (a bare number means seconds), got \(flags.string("retention")!)")
        }
        configuration.retentionMs = retention
    }
    guard let text = flags.string("rollup") else {
        if let retention = configuration.retentionMs {
            log.notice("retention: readings older than \(flags.string("retention")!) are deleted (\(retention) ms), checked every minute")
        }
        return
    }
    guard let retention = configuration.retentionMs else {
        throw FlagError("--rollup needs --retention: rollups keep the aggregates of readings retention deletes")
    }
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 2, let step = ParsedFlags.parseDuration(String(pieces[0])),
            let keep = ParsedFlags.parseDuration(String(pieces[1]))
        else {
            throw FlagError("--rollup: expected STEP:DURATION like 1h:2y, got \"\(part)\"")
        }
        guard step >= 1_000, step <= 86_400_000 * 366 else {
            throw FlagError("--rollup: the step of \"\(part)\" must be from 1s to 366d")
        }
        guard keep > retention else {
            throw FlagError(
                "--rollup: \"\(part)\" keeps its buckets no longer than --retention keeps readings; make DURATION longer")
        }
        configuration.rollups.append(StoreConfiguration.Rollup(stepMs: step, keepMs: keep))
    }
    log.notice("""
        retention: readings older than \(flags.string("retention")!) are deleted, checked every minute; rollups \
        \(text) keep their aggregates
        """)
}
