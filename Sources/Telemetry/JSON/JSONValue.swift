/// Any JSON value, as a tree: for reading documents whose shape is not fixed (collector responses in the
/// simulator and tests). The ingest hot path uses `JSONScanner` directly and builds no tree.
///
/// Numbers keep the literal's exact text, so nothing is lost or rounded until an accessor converts it; two numbers
/// are equal when their texts are (`1.0` ≠ `1`). Objects keep their members in document order.
public enum JSONValue: Equatable, Sendable {
    /// `null`
    case null
    /// `true` or `false`
    case bool(Bool)
    /// A number, as the literal's exact text (`21.54`, `-0`, `1E+3`).
    case number(String)
    /// A string, escapes decoded.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in document order (keys are unique: the parser refuses duplicates).
    case object([Member])

    /// One member of an object.
    public struct Member: Equatable, Sendable {
        /// The member's name.
        public var key: String
        /// The member's value.
        public var value: JSONValue

        /// A member named `key` with `value`.
        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of member `key` when this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Element `index` when this is an array that long.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// True for `null`.
    public var isNull: Bool { self == .null }

    /// The Boolean, when this is `true` or `false`.
    public var boolValue: Bool? {
        guard case .bool(let value) = self else { return nil }
        return value
    }

    /// The text, when this is a string.
    public var stringValue: String? {
        guard case .string(let value) = self else { return nil }
        return value
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        guard case .array(let value) = self else { return nil }
        return value
    }

    /// The members in document order, when this is an object.
    public var objectValue: [Member]? {
        guard case .object(let value) = self else { return nil }
        return value
    }

    /// The literal's text, when this is a number.
    public var numberText: String? {
        guard case .number(let text) = self else { return nil }
        return text
    }

    /// The number as an Int64, when it is written as an integer (no fraction, no exponent) and fits.
    public var int64Value: Int64? {
        withNumber { scanner, token in scanner.int64(token) } ?? nil
    }

    /// The number as a UInt64, when it is written as a non-negative integer (no fraction, no exponent) and fits.
    public var uint64Value: UInt64? {
        withNumber { scanner, token in scanner.uint64(token) } ?? nil
    }

    /// The number as the nearest Double (correctly rounded), when it is finite.
    public var doubleValue: Double? {
        guard let value = withNumber({ scanner, token in scanner.double(token) }), value.isFinite else { return nil }
        return value
    }

    /// Runs `body` on the number's literal after checking it against the JSON number grammar (a `.number` built by
    /// hand may hold anything); nil when this is not a valid number.
    private func withNumber<Result>(_ body: (JSONScanner, JSONNumberToken) -> Result) -> Result? {
        guard case .number(var text) = self else { return nil }
        return text.withUTF8 { utf8 in
            var scanner = JSONScanner(UnsafeRawBufferPointer(utf8))
            guard let token = try? scanner.readNumber(), token.range == 0..<utf8.count else { return nil }
            return body(scanner, token)
        }
    }
}
