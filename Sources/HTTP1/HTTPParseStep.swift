/// One parse step's result: one event and how many bytes it consumed from the front of the input.
///
/// The caller drops `consumed` bytes and passes the rest to the next call, until the event is `.needMoreData`
/// (which always consumes everything it was given).
public struct HTTPParseStep<Event: Sendable & Equatable>: Sendable, Equatable {
    /// What was found.
    public var event: Event
    /// Bytes consumed from the front of the input.
    public var consumed: Int

    /// A step from its parts.
    public init(_ event: Event, consumed: Int) {
        self.event = event
        self.consumed = consumed
    }
}
