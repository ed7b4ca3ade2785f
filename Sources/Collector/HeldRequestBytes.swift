/// One connection's reservations in the budget, per request (HTTP/1.1: one key; HTTP/2: the stream id). Loop-owned.
struct HeldRequestBytes {
    /// What a request may not be given.
    enum Shortage: Equatable, CustomStringConvertible {
        /// The connection already holds its share (`perConnectionLimit`).
        case connection(limit: Int)
        /// The process-wide budget is spent.
        case process(limit: Int)

        var description: String {
            switch self {
            case .connection(let limit): "partial requests on this connection would exceed \(limit) bytes"
            case .process(let limit): "partial requests on all connections would exceed \(limit) bytes"
            }
        }
    }

    private(set) var total = 0
    private var perRequest: [Int32: Int] = [:]

    /// Sets what request `key` holds now to `bytes`, reserving or releasing the difference; on a shortage nothing
    /// changes and the caller refuses the request (then calls `release(key)`).
    mutating func update(_ key: Int32, to bytes: Int, perConnectionLimit: Int, budget: RequestBufferBudget)
        -> Shortage?
    {
        let held = perRequest[key] ?? 0
        let delta = bytes - held
        if delta > 0 {
            guard total + delta <= perConnectionLimit else { return .connection(limit: perConnectionLimit) }
            guard budget.reserve(delta) else { return .process(limit: budget.limit) }
        } else if delta < 0 {
            budget.release(-delta)
        }
        total += delta
        if bytes == 0 { perRequest.removeValue(forKey: key) } else { perRequest[key] = bytes }
        return nil
    }

    /// Releases everything request `key` holds.
    mutating func release(_ key: Int32, budget: RequestBufferBudget) {
        guard let held = perRequest.removeValue(forKey: key) else { return }
        budget.release(held)
        total -= held
    }

    /// Releases everything (the connection closed).
    mutating func releaseAll(budget: RequestBufferBudget) {
        budget.release(total)
        total = 0
        perRequest = [:]
    }
}
