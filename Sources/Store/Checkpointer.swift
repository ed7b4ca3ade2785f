// Background WAL checkpoints, so the writer's commits do not pay for copying the WAL into the database file.
//
// Rule: after the writer commits, this thread (on its own read-write connection) runs a PASSIVE checkpoint at
// most every `intervalMs`. PASSIVE never waits for or blocks the writer or readers; frames it cannot copy yet
// (a reader still needs the old pages) are copied by a later round. The writer connection keeps SQLite's own
// automatic checkpoint only as a safety net at a much larger WAL size, for when this thread falls behind.
// Measured on the insert benchmark: checkpoints inside the writer's COMMIT took 10–25 ms of every other commit.
//
// The connection reads the database header once before its first checkpoint: until a connection has read the file
// it does not know the file is in WAL mode, and `sqlite3_wal_checkpoint_v2` on it returns SQLITE_OK having done
// nothing (log and checkpointed frames -1). A round that fails (disk full while the database file must grow, an
// I/O error) or cannot copy every frame is retried at the next round even without a new commit: after a disk-full
// spell no commit can succeed until a checkpoint has let the WAL start over, so waiting for a commit would wait
// forever.
import Dispatch
import Foundation
import Synchronization

/// The thread that checkpoints the store's WAL beside the writer.
final class Checkpointer: Sendable {
    private let commits = Atomic<UInt64>(0)
    private let isClosed = Atomic<Bool>(false)
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()

    /// Starts the checkpoint thread on its own connection to `path`.
    init(path: String, busyTimeoutMs: Int, intervalMs: Int) throws(StoreError) {
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: busyTimeoutMs)
        _ = try database.pragmaInteger("user_version")  // reads the header: the connection now knows it is WAL
        let box = ExclusiveBox<Database?>(database)
        finished.enter()
        let thread = Thread { [self] in
            box.withExclusiveAccess { database in
                if let database {
                    run(database, intervalMs: intervalMs)
                    // The store is closing and every other connection is closed. SQLite's own last-close cleanup
                    // leaves the WAL and -shm behind once a read-only connection has had the file open in this
                    // process, so fold the WAL into the database and leave WAL mode: a cleanly stopped store is one
                    // self-contained file (the next open switches back to WAL).
                    try? database.checkpointTruncate()
                    _ = try? database.pragmaText("journal_mode = DELETE")
                }
                database = nil
            }
            finished.leave()
        }
        thread.name = "fleetwire-store-checkpoint"
        thread.start()
    }

    /// Tells the thread the writer has committed (called on the writer thread after each COMMIT).
    func noteCommit() {
        commits.add(1, ordering: .relaxed)
    }

    /// Runs a last checkpoint, closes the connection and waits for the thread to end. Idempotent.
    func close() {
        if !isClosed.exchange(true, ordering: .acquiringAndReleasing) { wakeUp.signal() }
        finished.wait()
    }

    private func run(_ database: Database, intervalMs: Int) {
        var checkpointedCommits: UInt64 = 0
        var isBehind = false
        while !isClosed.load(ordering: .acquiring) {
            _ = wakeUp.wait(timeout: .now() + .milliseconds(intervalMs))
            let committed = commits.load(ordering: .relaxed)
            guard committed != checkpointedCommits || isBehind else { continue }
            checkpointedCommits = committed
            // A failure (SQLITE_BUSY while another checkpoint runs, a full disk) or a partial copy (a reader still
            // needs old pages) is retried at the next round.
            if let frames = try? database.checkpointPassive() {
                isBehind = frames.checkpointedFrames < frames.walFrames
            } else {
                isBehind = true
            }
        }
    }
}
