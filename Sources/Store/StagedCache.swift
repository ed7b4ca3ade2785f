// A cache whose entries follow the writer's transactions.
//
// Invariant: `value(for:)` answers what the database holds as seen from inside the current transaction, and the
// committed layer holds only what is durable. Entries set while a batch's SAVEPOINT is open live in the batch
// layer; releasing the savepoint moves them to the transaction layer, rolling it back drops them; COMMIT moves the
// transaction layer into the committed layer, a failed COMMIT drops it. So no id created by a rolled-back
// transaction is ever handed out after the rollback.

/// The writer's cache of ids (device name → device, (device, sensor) → series), layered like its transactions.
///
/// Owned by the writer thread; not `Sendable`.
struct StagedCache<Key: Hashable, Value> {
    private var committed: [Key: Value] = [:]
    private var transaction: [Key: Value] = [:]
    private var batch: [Key: Value] = [:]

    /// An empty cache.
    init() {}

    /// The newest value for `key`: the batch layer's, else the transaction's, else the committed one.
    func value(for key: Key) -> Value? {
        if !batch.isEmpty, let value = batch[key] { return value }
        if !transaction.isEmpty, let value = transaction[key] { return value }
        return committed[key]
    }

    /// Records a value created or changed by the batch being written.
    mutating func set(_ value: Value, for key: Key) {
        batch[key] = value
    }

    /// The batch's savepoint was released: its entries now belong to the transaction.
    mutating func releaseBatch() {
        guard !batch.isEmpty else { return }
        transaction.merge(batch) { _, new in new }
        batch.removeAll(keepingCapacity: true)
    }

    /// The batch's savepoint was rolled back: forget its entries.
    mutating func rollBackBatch() {
        batch.removeAll(keepingCapacity: true)
    }

    /// The transaction committed: its entries are durable.
    mutating func commitTransaction() {
        precondition(batch.isEmpty, "commit with a batch still open")
        guard !transaction.isEmpty else { return }
        committed.merge(transaction) { _, new in new }
        transaction.removeAll(keepingCapacity: true)
    }

    /// The transaction rolled back (or its COMMIT failed): forget everything not committed.
    mutating func rollBackTransaction() {
        batch.removeAll(keepingCapacity: true)
        transaction.removeAll(keepingCapacity: true)
    }

    /// Number of committed entries (for tests).
    var committedCount: Int { committed.count }
}
