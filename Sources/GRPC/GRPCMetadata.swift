// gRPC metadata is an ordered list of name/value pairs; names are case-insensitive and may repeat. The GRPC
// module speaks only this type, so the same validation and handlers serve HTTP/2 header fields today and
// HTTP/1.1 headers (gRPC-Web) later: each transport converts its own header type at its edge.

/// Request or response metadata (headers, trailers) independent of any transport. Names are stored lower-cased,
/// as HTTP/2 requires on the wire, so lookups ignore case and output needs no further folding; order and repeated
/// names are kept. Pseudo-headers (`:path`, `:status`) are not metadata: the transport keeps them apart (see
/// `GRPCRequestHead`).
public struct GRPCMetadata: Equatable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// One name/value pair.
    public struct Field: Equatable, Sendable {
        /// Lower-case name.
        public let name: String
        /// The value, as sent.
        public let value: String

        /// A pair; `name` is lower-cased.
        public init(_ name: String, _ value: String) {
            self.name = GRPCMetadata.lowercased(name)
            self.value = value
        }
    }

    /// The pairs, in the order they were added.
    public private(set) var fields: [Field] = []

    /// No pairs.
    public init() {}

    /// Pairs in order; repeated names are kept (`["a": "1", "a": "2"]` is two fields).
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { Field($0.0, $0.1) }
    }

    /// Number of pairs.
    public var count: Int { fields.count }
    /// True when there are no pairs.
    public var isEmpty: Bool { fields.isEmpty }

    /// The first value of `name`, whatever its case; nil when absent.
    public subscript(name: String) -> String? {
        let key = Self.lowercased(name)
        return fields.first { $0.name == key }?.value
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        let key = Self.lowercased(name)
        return fields.filter { $0.name == key }.map(\.value)
    }

    /// Adds a pair at the end.
    public mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name, value))
    }

    /// Adds every pair of `other` at the end, in its order.
    public mutating func append(contentsOf other: GRPCMetadata) {
        fields.append(contentsOf: other.fields)
    }

    /// Removes every pair named `name`.
    public mutating func removeAll(named name: String) {
        let key = Self.lowercased(name)
        fields.removeAll { $0.name == key }
    }

    /// The pairs in order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// `self` followed by `other`.
    public static func + (lhs: GRPCMetadata, rhs: GRPCMetadata) -> GRPCMetadata {
        var result = lhs
        result.append(contentsOf: rhs)
        return result
    }

    /// The metadata that opens a response which carries messages: the gRPC content type.
    public static let responseHeaders: GRPCMetadata = ["content-type": "application/grpc"]

    /// ASCII lower-casing that allocates only when there is an upper-case letter (names on HTTP/2 never have one).
    static func lowercased(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return name }
        return String(decoding: name.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
