/// An ordered list of header (or trailer) fields, kept as the bytes that arrived, with case-insensitive lookup.
///
/// Storage is one byte array plus the byte ranges of each field's name and value, so a parsed head costs two
/// allocations however many fields it has, and the original bytes (obs-text included) stay available. Names keep
/// their spelling; values have their surrounding whitespace removed. Equality compares the fields' bytes exactly.
public struct HTTPHeaders: Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// Where one field's name and value lie in `storage`.
    struct FieldRange: Sendable, Equatable {
        /// Index of the name's first byte.
        var nameStart: Int
        /// Index past the name's last byte (where the colon is, in a parsed head).
        var nameEnd: Int
        /// Index of the value's first byte, leading whitespace skipped.
        var valueStart: Int
        /// Index past the value's last byte, trailing whitespace excluded.
        var valueEnd: Int
    }

    /// The bytes the ranges point into (for a parsed head, the head's lines without their CRLFs).
    var storage: [UInt8]
    /// One entry per field, in order.
    var ranges: [FieldRange]

    /// No fields.
    public init() {
        storage = []
        ranges = []
    }

    /// Fields parsed by a head reader: `ranges` index into `storage`.
    init(storage: [UInt8], ranges: [FieldRange]) {
        self.storage = storage
        self.ranges = ranges
    }

    /// Fields from name-value pairs, in order; duplicates are kept.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init()
        for (name, value) in elements { append(name: name, value: value) }
    }

    /// Fields from a sequence of fields, in order.
    public init(_ fields: some Sequence<HTTPField>) {
        self.init()
        for field in fields { append(name: field.name, value: field.value) }
    }

    /// Adds a field at the end.
    ///
    /// The name must be a token and the value must not contain CR, LF, NUL or other control characters but HTAB:
    /// building a header from bytes that could split it is a programming error and traps. Surrounding whitespace
    /// is removed from the value.
    public mutating func append(name: String, value: String) {
        precondition(!name.isEmpty && name.utf8.allSatisfy(\.isTokenChar), "invalid HTTP field name: \(name)")
        precondition(value.utf8.allSatisfy(\.isFieldValueChar), "invalid character in HTTP field value for \(name)")
        let nameStart = storage.count
        storage.append(contentsOf: name.utf8)
        let valueStart = storage.count
        storage.append(contentsOf: value.utf8.drop(while: \.isWhitespace))
        while storage.count > valueStart, storage[storage.count - 1].isWhitespace { storage.removeLast() }
        ranges.append(
            FieldRange(nameStart: nameStart, nameEnd: valueStart, valueStart: valueStart, valueEnd: storage.count))
    }

    /// The position of the first field.
    public var startIndex: Int { 0 }
    /// One past the position of the last field.
    public var endIndex: Int { ranges.count }

    /// The field at a position, decoded.
    public subscript(position: Int) -> HTTPField {
        HTTPField(
            name: String(decoding: nameBytes(at: position), as: UTF8.self),
            value: String(decoding: valueBytes(at: position), as: UTF8.self))
    }

    /// The exact bytes of a field's name.
    public func nameBytes(at position: Int) -> ArraySlice<UInt8> {
        storage[ranges[position].nameStart..<ranges[position].nameEnd]
    }

    /// The exact bytes of a field's value, surrounding whitespace removed.
    public func valueBytes(at position: Int) -> ArraySlice<UInt8> {
        storage[ranges[position].valueStart..<ranges[position].valueEnd]
    }

    /// One `Name: value` line per field.
    public var description: String { map(\.description).joined(separator: "\n") }
}

extension HTTPHeaders: Equatable {
    /// Whether both hold the same fields, byte for byte, in the same order.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.ranges.count == rhs.ranges.count else { return false }
        for index in lhs.ranges.indices {
            guard lhs.nameBytes(at: index).elementsEqual(rhs.nameBytes(at: index)),
                lhs.valueBytes(at: index).elementsEqual(rhs.valueBytes(at: index))
            else { return false }
        }
        return true
    }
}
