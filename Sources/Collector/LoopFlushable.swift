/// A connection whose output and ledger rows its loop's `LoopFlusher` flushes.
protocol LoopFlushable: AnyObject {
    /// Writes what is pending into the transport and posts settled ledger rows; called by the hook, on the loop.
    func flushPending()
}
