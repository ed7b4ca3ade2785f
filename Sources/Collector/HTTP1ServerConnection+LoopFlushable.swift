extension HTTP1ServerConnection: LoopFlushable {
    /// HTTP/1.1 writes each response whole as it is answered; the before-sleep hook only posts the rows that the
    /// reported writes settled.
    func flushPending() { postRows() }
}
