/// Why the collector could not start.
public struct CollectorError: Error, CustomStringConvertible {
    public var description: String
}
