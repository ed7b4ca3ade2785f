// The aggregates a chunk row carries beside its blob, so that queries over whole chunks need not decode them.
//
// Rule: `sum` is a compensated (Neumaier) sum taken in ts order, and sums of several chunks or buckets are
// combined the same way, so a bucket's sum does not depend on how its readings were cut into chunks beyond the
// last bits (SQLite's own `total()` and `avg()` are compensated sums too). A sum that overflows to ±infinity, or
// meets an infinite value, is the plain sum.

/// Count, time range and value aggregates of a run of one series' readings.
package struct ChunkSummary: Equatable, Sendable {
    /// Readings summarized (> 0).
    package var count: Int64
    /// Time of the first and the last reading (Unix ms).
    package var startTs: Int64
    package var endTs: Int64
    package var min: Double
    package var max: Double
    /// The compensated sum, as a running sum plus its correction (see the file header).
    package var sum: CompensatedSum
    /// Value of the first and of the last reading.
    package var first: Double
    package var last: Double

    /// The summary of readings at `timestamps` (strictly increasing, not empty) with `values` (parallel).
    package init(timestamps: ArraySlice<Int64>, values: ArraySlice<Double>) {
        precondition(!timestamps.isEmpty && timestamps.count == values.count, "a summary needs parallel readings")
        count = Int64(timestamps.count)
        startTs = timestamps.first!
        endTs = timestamps.last!
        first = values.first!
        last = values.last!
        var low = first
        var high = first
        var sum = CompensatedSum()
        for value in values {
            if value < low { low = value }
            if value > high { high = value }
            sum.add(value)
        }
        min = low
        max = high
        self.sum = sum
    }

    /// A summary read back from a chunk row.
    package init(count: Int64, startTs: Int64, endTs: Int64, min: Double, max: Double, sum: Double, first: Double, last: Double) {
        self.count = count
        self.startTs = startTs
        self.endTs = endTs
        self.min = min
        self.max = max
        self.sum = CompensatedSum(sum)
        self.first = first
        self.last = last
    }

    /// Adds `other`, which lies wholly after this one in time.
    package mutating func append(_ other: ChunkSummary) {
        count += other.count
        endTs = other.endTs
        if other.min < min { min = other.min }
        if other.max > max { max = other.max }
        sum.add(other.sum)
        last = other.last
    }
}

/// Neumaier's compensated sum: a running sum and the rounding error it has lost so far.
package struct CompensatedSum: Equatable, Sendable {
    private var total = 0.0
    private var correction = 0.0

    /// Zero.
    package init() {}

    /// A sum known only by its value (a stored aggregate).
    package init(_ value: Double) {
        total = value
    }

    /// The sum, its correction applied; the plain sum once infinities are involved.
    package var value: Double {
        total.isFinite ? total + correction : total
    }

    /// Adds one value.
    package mutating func add(_ value: Double) {
        let next = total + value
        if total.magnitude >= value.magnitude {
            correction += (total - next) + value
        } else {
            correction += (value - next) + total
        }
        total = next
    }

    /// Adds another compensated sum (both parts, so nothing the other kept is lost).
    package mutating func add(_ other: CompensatedSum) {
        add(other.total)
        add(other.correction)
    }
}
