// Outbound attribution follows the socket, not the serializer: bytes are queued with their row when a response is
// produced and attributed only as send(2) reports them written, so bytes still buffered when a connection dies
// are never counted (they did not cross the socket).

/// A FIFO of produced-but-unwritten output, each run tagged with what it is, consumed by written byte counts.
struct WrittenBytes<Tag> {
    private var runs: [(tag: Tag, count: Int)] = []
    private var head = 0

    /// Queues `count` bytes about to be written, tagged.
    mutating func append(_ tag: Tag, count: Int) {
        guard count > 0 else { return }
        runs.append((tag, count))
    }

    /// `count` bytes were written: reports each tagged run (or part of one) they cover, in order.
    mutating func written(_ count: Int, _ report: (Tag, Int) -> Void) {
        var remaining = count
        while remaining > 0 && head < runs.count {
            let take = min(remaining, runs[head].count)
            report(runs[head].tag, take)
            runs[head].count -= take
            remaining -= take
            if runs[head].count == 0 { head += 1 }
        }
        if head == runs.count {
            // Everything is written: the storage goes too, so an idle connection holds none (one small allocation
            // per response costs less than a few hundred resident bytes on each of 10,000 idle connections).
            runs = []
            head = 0
        } else if head > 64 {
            runs.removeFirst(head)
            head = 0
        }
    }

    /// Bytes queued and not yet written.
    var pendingCount: Int { runs[head...].reduce(0) { $0 + $1.count } }
}
