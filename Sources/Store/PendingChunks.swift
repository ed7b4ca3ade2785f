import Chunks

// The writer's chunks of the open transaction that are not written yet.
//
// Coalescing rule. Within one group-commit transaction, the in-order readings a series receives from several
// batches (a busy writer takes many batches of every device into one transaction) are written as one chunk, just
// before COMMIT, instead of one chunk per batch: fewer rows, fewer statements, smaller files. It changes nothing
// a client can observe: the readings are in the database when COMMIT returns, as before, and a failure to write
// them fails the transaction and so every batch in it. Readings of a batch are kept in a batch layer until its
// savepoint is released (a failed batch's readings are dropped with it), and a series that is about to be merged
// (readings in its past) or compacted is written out first, so those paths see every reading.

/// Per-series readings waiting to be written at the end of the transaction.
struct PendingChunks {
    /// One series' waiting readings: in ts order, each piece after the one before.
    struct Run {
        var pieces: [Piece] = []
        var count: Int64 { pieces.reduce(0) { $0 + $1.count } }
    }

    /// The readings one batch gave one series, with their chunk when the submitting thread encoded it.
    struct Piece {
        var times: ArraySlice<Int64>
        var values: ArraySlice<Double>
        var prepared: PreparedChunk?
        var count: Int64 { Int64(times.count) }
    }

    private var transaction: [Int64: Run] = [:]
    private var batch: [(seriesID: Int64, piece: Piece)] = []

    /// True when nothing waits.
    var isEmpty: Bool { transaction.isEmpty && batch.isEmpty }

    /// Readings waiting for `seriesID` (both layers).
    func count(of seriesID: Int64) -> Int64 {
        (transaction[seriesID]?.count ?? 0) + batch.reduce(0) { $0 + ($1.seriesID == seriesID ? $1.piece.count : 0) }
    }

    /// Adds the readings the current batch gives a series (after everything waiting for it).
    mutating func add(seriesID: Int64, _ piece: Piece) {
        batch.append((seriesID, piece))
    }

    /// The current batch's savepoint was released: its readings join the transaction's.
    mutating func releaseBatch() {
        for (seriesID, piece) in batch { transaction[seriesID, default: Run()].pieces.append(piece) }
        batch.removeAll(keepingCapacity: true)
    }

    /// The current batch was rolled back: its readings are dropped.
    mutating func rollBackBatch() {
        batch.removeAll(keepingCapacity: true)
    }

    /// Removes and returns what waits for one series (both layers, in order).
    mutating func take(_ seriesID: Int64) -> Run? {
        var run = transaction.removeValue(forKey: seriesID)
        let mine = batch.filter { $0.seriesID == seriesID }
        if !mine.isEmpty {
            batch.removeAll { $0.seriesID == seriesID }
            run = run ?? Run()
            run!.pieces += mine.map(\.piece)
        }
        return run
    }

    /// Removes and returns everything (the transaction is about to commit, or failed), by series id.
    mutating func takeAll() -> [(seriesID: Int64, run: Run)] {
        releaseBatch()
        let all = transaction.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        transaction.removeAll(keepingCapacity: true)
        return all
    }
}
