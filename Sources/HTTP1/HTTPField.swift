/// One header or trailer field, name and value decoded as UTF-8 (invalid bytes become U+FFFD; the exact bytes stay
/// available from `HTTPHeaders.nameBytes(at:)` and `valueBytes(at:)`).
public struct HTTPField: Sendable, Hashable, CustomStringConvertible {
    /// The field name as it was spelled (compare it case-insensitively).
    public var name: String
    /// The field value without surrounding whitespace.
    public var value: String

    /// A field from its name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `Name: value`.
    public var description: String { "\(name): \(value)" }
}
