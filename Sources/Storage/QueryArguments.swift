// The read API's argument rules, shared by every backend so that a query refused by one is refused by all, with
// the same message.
//
// Rules: a page's `limit` is within 1...maxPageLimit; a cursor continues a page of the same order; a series step is
// positive; a counter-history step is a positive multiple of the base history bucket (a base bucket cannot be
// split); a range [fromMs, toMs) (nil: unbounded) becomes the inclusive [low, high], empty (low > high) when nothing
// can match.

/// Checks and converts the arguments of the `TelemetryStorage` queries before a backend runs them.
package enum QueryArguments {
    /// Largest `limit` a readings or devices page accepts.
    package static let maxPageLimit = 100_000

    /// Throws `.invalidArgument` unless `limit` is within 1...`maxPageLimit`.
    package static func checkLimit(_ limit: Int) throws(StoreError) {
        guard limit > 0, limit <= maxPageLimit else {
            throw .invalidArgument("limit must be within 1...\(maxPageLimit), got \(limit)")
        }
    }

    /// Throws `.invalidArgument` when `cursor` was made for the other order.
    package static func checkCursor(_ cursor: ReadingCursor?, order: ReadingOrder) throws(StoreError) {
        if let cursor, cursor.order != order {
            throw .invalidArgument("the cursor continues a page in the other order")
        }
    }

    /// Throws `.invalidArgument` unless the series step is positive.
    package static func checkSeriesStep(_ stepMs: Int64) throws(StoreError) {
        guard stepMs > 0 else { throw .invalidArgument("stepMs must be positive, got \(stepMs)") }
    }

    /// Throws `.invalidArgument` unless the history step is a positive multiple of the base bucket `bucketMs`.
    package static func checkHistoryStep(_ stepMs: Int64, bucketMs: Int64) throws(StoreError) {
        guard stepMs > 0, stepMs % bucketMs == 0 else {
            throw .invalidArgument(
                "stepMs must be a positive multiple of the \(bucketMs) ms history bucket, got \(stepMs)")
        }
    }

    /// `[fromMs, toMs)` as an inclusive range; empty (low > high) when nothing can match.
    package static func inclusiveRange(_ fromMs: Int64?, _ toMs: Int64?) -> (low: Int64, high: Int64) {
        let low = fromMs ?? .min
        guard let toMs else { return (low, .max) }
        guard toMs > .min else { return (1, 0) }
        return (low, toMs - 1)
    }
}
