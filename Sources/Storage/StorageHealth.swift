// Whether the store's writes currently reach the disk.
//
// Rule: the writer reports every transaction. One that fails as a whole (disk full, read-only file, I/O error, or
// any error that made SQLite abandon it) starts a failing spell or continues it; the next commit ends the spell.
// While the store cannot open its file for writing at all (read-only), every refused write continues the spell.
// A batch that fails alone inside a committed transaction with a storage error (a batch too big for the space
// left) also counts as a failure; one that fails alone for another reason (a constraint error in its savepoint)
// says nothing about the storage.

/// The storage's health as the writer last saw it, for readiness checks and for logging a failure once.
public struct StorageHealth: Equatable, Sendable {
    /// The error of the latest failed write while the storage is failing; nil once a transaction has committed.
    public var currentFailure: StoreError?
    /// Wall-clock Unix ms of the first failure of the current spell; nil while healthy.
    public var failingSinceMs: Int64?
    /// The most recent failure, kept after recovery (for a spell that started and ended between two looks).
    public var lastFailure: StoreError?
    /// Transactions (or refused writes) that failed since the store opened.
    public var failedWrites: UInt64 = 0
    /// Failing spells since the store opened: each change from healthy to failing counts one.
    public var failureSpells: UInt64 = 0

    /// A healthy store that has seen no failure.
    public init() {}

    /// True while the storage is failing.
    public var isFailing: Bool { currentFailure != nil }

    /// A transaction committed: the spell, if any, is over.
    package mutating func recordCommit() {
        currentFailure = nil
        failingSinceMs = nil
    }

    /// A write failed as a whole with `error` at wall-clock `atMs`.
    package mutating func recordFailure(_ error: StoreError, atMs: Int64) {
        if currentFailure == nil {
            failureSpells += 1
            failingSinceMs = atMs
        }
        currentFailure = error
        lastFailure = error
        failedWrites += 1
    }
}
