import Telemetry

/// The order of a readings page: by (ts, sensor), or the reverse.
public enum ReadingOrder: Equatable, Sendable {
    /// Oldest first; equal times by sensor name.
    case ascending
    /// Newest first; equal times by sensor name, reversed.
    case descending
}

/// A page of readings and, when more rows follow, the cursor that continues after it.
public struct ReadingPage: Equatable, Sendable {
    /// The readings, in the requested order.
    public var readings: [Reading]
    /// Where the next page starts; nil when this page is the last.
    public var nextCursor: ReadingCursor?

    /// A page with the given fields.
    public init(readings: [Reading], nextCursor: ReadingCursor?) {
        self.readings = readings
        self.nextCursor = nextCursor
    }
}
