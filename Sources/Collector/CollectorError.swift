/// Why the collector could not start.
public struct CollectorError: Error, CustomStringConvertible {
    /// The sentence the collector prints before it exits: what failed and why.
    public var description: String
}
