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
//
// Restart rule. PASSIVE rounds beside a busy writer never find the WAL quiet, so on their own they never let it
// start over: the file grows to the writer's 20,000-page safety checkpoint (80 MB) before SQLite restarts it from
// inside a COMMIT. So when the WAL is past `restartFrames` and a round has copied all of it but the frames
// committed while the round ran, this thread asks the writer to finish the job: between two transactions the
// writer runs a PASSIVE checkpoint of its own, which only copies that small remainder, and its next BEGIN then
// starts the WAL over from the beginning (SQLite restarts a fully checkpointed WAL when no reader needs it). The
// writer's pause is the remainder, not the whole log, and it takes it only when its queue is empty, so no batch is
// waiting when it starts; under sustained saturation SQLite's own safety checkpoint remains.
import Storage
import Dispatch
import Foundation
import Glibc
import Synchronization

/// The thread that checkpoints the store's WAL beside the writer.
final class Checkpointer: Sendable {
    private let commits = Atomic<UInt64>(0)
    private let isRestartWanted = Atomic<Bool>(false)
    /// The checkpoint thread's nice value.
    static let niceness: Int32 = 10
    /// The nice value the checkpoint thread reads back once it has set its own (for tests and diagnostics).
    let threadNiceness = Atomic<Int32>(Int32.min)
    /// WAL size (frames) past which a fully copied WAL should start over.
    private let restartFrames: Int32
    private let isClosed = Atomic<Bool>(false)
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()

    /// Starts the checkpoint thread on its own connection to `path`.
    init(path: String, busyTimeoutMs: Int, intervalMs: Int, restartFrames: Int32) throws(StoreError) {
        self.restartFrames = restartFrames
        let database = try Database(path: path, mode: .readWrite, busyTimeoutMs: busyTimeoutMs)
        _ = try database.pragmaInteger("user_version")  // reads the header: the connection now knows it is WAL
        let box = ExclusiveBox<Database?>(database)
        finished.enter()
        let thread = Thread { [self] in
            // Background work with slack (the writer copies what a late round leaves): on Linux, nice is per
            // thread, so this lowers only the checkpointer and lets the writer and the event loops go first.
            let which = __priority_which_t(PRIO_PROCESS.rawValue)
            setpriority(which, 0, Self.niceness)
            threadNiceness.store(getpriority(which, 0), ordering: .releasing)
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

    /// True after a round copied all but the last frames of a large WAL: the writer should checkpoint the
    /// remainder itself, between transactions, so that its next transaction restarts the WAL.
    var isRestartRequested: Bool { isRestartWanted.load(ordering: .acquiring) }

    /// Clears the request (the writer is about to act on it).
    func takeRestartRequest() {
        isRestartWanted.store(false, ordering: .releasing)
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
                // The frames committed while this round ran are the writer's to copy: few, as long as the
                // round itself was not far behind.
                let remainder = frames.walFrames - frames.checkpointedFrames
                if frames.walFrames >= restartFrames && remainder <= max(restartFrames / 2, 256) {
                    isRestartWanted.store(true, ordering: .releasing)
                }
            } else {
                isBehind = true
            }
        }
    }
}
