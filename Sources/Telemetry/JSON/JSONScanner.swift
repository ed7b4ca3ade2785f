// A strict RFC 8259 pull reader over bytes: the caller asks for the next value of the kind it expects and the
// scanner checks the grammar as it goes, so the hot path (the REST batch decoder) builds no tree and copies nothing
// it does not keep.
//
// Algorithm: a single forward cursor `position` over the input. Containers are walked with
// `beginObject`/`nextKey` and `beginArray`/`nextElement`; separators are checked by `nextKey`/`nextElement`
// using one flag, `isAtContainerStart`, set by `begin…` and consumed by the very next `next…` call (which always
// follows it), so no container stack is kept. `depth` counts open containers against `maxDepth`.
//
// Invariants: every byte before `position` has been checked against the grammar; a thrown error carries the
// offset of the first byte that could not be accepted, and "unexpected end of input" whenever that offset is the
// end of the input (so truncated input is always reported as such).

/// A strict, allocation-free pull reader of RFC 8259 JSON over a byte buffer.
///
/// The scanner borrows its buffer: use it only while the buffer is valid, which `scan(_:maxDepth:_:)` arranges.
/// Errors are `DecodeError`s with an empty `path` (callers know the path and fill it in) and the byte offset.
public struct JSONScanner {
    /// The kind of the next JSON value, as told by its first byte.
    public enum Kind: Equatable, Sendable {
        /// `{`
        case object
        /// `[`
        case array
        /// `"`
        case string
        /// `-` or a digit
        case number
        /// `true` or `false`
        case bool
        /// `null`
        case null
    }

    /// Deepest nesting `maxDepth` may ask for; the generic parser recurses once per level.
    public static let depthCeiling = 512
    /// Nesting allowed unless the caller asks otherwise.
    public static let defaultMaxDepth = 64

    /// The input.
    let bytes: UnsafeRawBufferPointer
    /// Offset of the next unread byte.
    public internal(set) var position: Int = 0
    /// Containers currently open.
    public internal(set) var depth: Int = 0
    /// Most containers that may be open at once.
    public let maxDepth: Int
    /// True right after `beginObject`/`beginArray`: the next `nextKey`/`nextElement` expects no separator.
    var isAtContainerStart = false

    /// A scanner over `bytes`, which must stay valid for as long as the scanner is used.
    ///
    /// `maxDepth` is clamped to `depthCeiling`.
    public init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = JSONScanner.defaultMaxDepth) {
        self.bytes = bytes
        self.maxDepth = max(0, min(maxDepth, JSONScanner.depthCeiling))
    }

    /// Runs `body` with a scanner over `bytes`, copying them only when they are not contiguous in memory.
    public static func scan<Bytes: Collection<UInt8>, Result>(
        _ bytes: Bytes, maxDepth: Int = JSONScanner.defaultMaxDepth,
        _ body: (inout JSONScanner) throws(DecodeError) -> Result
    ) throws(DecodeError) -> Result {
        try withContiguousBytes(bytes) { (raw) throws(DecodeError) -> Result in
            var scanner = JSONScanner(raw, maxDepth: maxDepth)
            return try body(&scanner)
        }
    }

    /// Runs `body` over the bytes of `bytes` as one contiguous buffer, copying only when they are not contiguous.
    static func withContiguousBytes<Bytes: Collection<UInt8>, Result>(
        _ bytes: Bytes, _ body: (UnsafeRawBufferPointer) throws(DecodeError) -> Result
    ) throws(DecodeError) -> Result {
        let direct = bytes.withContiguousStorageIfAvailable { buffer in
            Swift.Result { () throws(DecodeError) -> Result in try body(UnsafeRawBufferPointer(buffer)) }
        }
        if let direct { return try direct.get() }
        return try Array(bytes).withUnsafeBufferPointer { (buffer) throws(DecodeError) -> Result in
            try body(UnsafeRawBufferPointer(buffer))
        }
    }

    // MARK: Values

    /// The kind of the next value, after skipping whitespace; a syntax error when no value starts there.
    public mutating func peekKind() throws(DecodeError) -> Kind {
        skipWhitespace()
        guard position < bytes.count else { throw syntaxError("expected a value") }
        guard let kind = Self.kind(startingWith: bytes[position]) else { throw syntaxError("expected a value") }
        return kind
    }

    /// The kind of value `byte` starts, if any.
    @inline(__always)
    static func kind(startingWith byte: UInt8) -> Kind? {
        switch byte {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: nil
        }
    }

    /// The error for a value of another kind than `expected` (or for no value at all) at the current position.
    ///
    /// Call it after `peekKind()` said the kind is wrong: the reason is `.expected(name)`.
    public func typeMismatch(expected name: String) -> DecodeError {
        DecodeError(.expected(name), offset: position)
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(DecodeError) -> Bool {
        skipWhitespace()
        if try consumeLiteral("true") { return true }
        if try consumeLiteral("false") { return false }
        throw mismatch(.bool)
    }

    /// Reads `null`.
    public mutating func readNull() throws(DecodeError) {
        skipWhitespace()
        if try consumeLiteral("null") { return }
        throw mismatch(.null)
    }

    /// Consumes `literal` if the input continues with it; false if the next value is something else.
    private mutating func consumeLiteral(_ literal: StaticString) throws(DecodeError) -> Bool {
        guard position < bytes.count, bytes[position] == literal.utf8Start[0] else { return false }
        for i in 1..<literal.utf8CodeUnitCount {
            guard position + i < bytes.count else { throw DecodeError(.syntax(Self.endOfInput), offset: bytes.count) }
            guard bytes[position + i] == literal.utf8Start[i] else {
                throw DecodeError(.syntax("invalid literal"), offset: position)
            }
        }
        position += literal.utf8CodeUnitCount
        return true
    }

    /// Skips one complete value of any kind, checking its grammar.
    public mutating func skipValue() throws(DecodeError) {
        switch try peekKind() {
        case .object:
            try beginObject()
            while try nextKey() != nil { try skipValue() }
        case .array:
            try beginArray()
            while try nextElement() { try skipValue() }
        case .string: _ = try readString()
        case .number: _ = try readNumber()
        case .bool: _ = try readBool()
        case .null: try readNull()
        }
    }

    /// Checks that only whitespace remains after the top-level value.
    public mutating func finish() throws(DecodeError) {
        skipWhitespace()
        guard position == bytes.count else {
            throw DecodeError(.syntax("unexpected data after the JSON value"), offset: position)
        }
    }

    // MARK: Containers

    /// Consumes `{` and opens an object; follow with `nextKey()` until it returns nil.
    public mutating func beginObject() throws(DecodeError) {
        try open(UInt8(ascii: "{"), kind: .object)
    }

    /// Consumes `[` and opens an array; follow with `nextElement()` until it returns false.
    public mutating func beginArray() throws(DecodeError) {
        try open(UInt8(ascii: "["), kind: .array)
    }

    private mutating func open(_ bracket: UInt8, kind: Kind) throws(DecodeError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == bracket else { throw mismatch(kind) }
        guard depth < maxDepth else {
            throw DecodeError(.syntax("nesting deeper than \(maxDepth) levels"), offset: position)
        }
        depth += 1
        position += 1
        isAtContainerStart = true
    }

    /// The next key of the open object with its `:` consumed, or nil when the object has closed (its `}` consumed).
    ///
    /// The key's value must be read (or skipped) before the next call.
    public mutating func nextKey() throws(DecodeError) -> JSONStringToken? {
        skipWhitespace()
        guard position < bytes.count else { throw syntaxError("expected ',' or '}'") }
        var byte = bytes[position]
        if byte == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            isAtContainerStart = false
            return nil
        }
        if isAtContainerStart {
            isAtContainerStart = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw syntaxError("expected ',' or '}'") }
            position += 1
            skipWhitespace()
            guard position < bytes.count else { throw syntaxError("expected a string key") }
            byte = bytes[position]
        }
        guard byte == UInt8(ascii: "\"") else { throw syntaxError("expected a string key") }
        let key = try readString()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw syntaxError("expected ':'") }
        position += 1
        return key
    }

    /// True when the open array has another element (positioned at its first byte); false when the array has
    /// closed (its `]` consumed).
    ///
    /// The element must be read (or skipped) before the next call. Whether a value really starts there is checked
    /// by that read, so an error in it (`[1,]`) is reported as the element's.
    public mutating func nextElement() throws(DecodeError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw syntaxError("expected ',' or ']'") }
        let byte = bytes[position]
        if byte == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            isAtContainerStart = false
            return false
        }
        if isAtContainerStart {
            isAtContainerStart = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw syntaxError("expected ',' or ']'") }
            position += 1
            skipWhitespace()
        }
        return true
    }

    // MARK: Helpers

    /// Text of the syntax error reported whenever the input ends where more was required.
    public static let endOfInput = "unexpected end of input"

    /// Skips JSON whitespace: space, tab, line feed, carriage return.
    @inline(__always)
    mutating func skipWhitespace() {
        var cursor = position
        while cursor < bytes.count {
            switch bytes[cursor] {
            case 0x20, 0x0A, 0x0D, 0x09: cursor += 1
            default:
                position = cursor
                return
            }
        }
        position = cursor
    }

    /// A syntax error at the current position: "unexpected end of input" when there is no more input, else `text`.
    func syntaxError(_ text: String) -> DecodeError {
        position >= bytes.count
            ? DecodeError(.syntax(Self.endOfInput), offset: bytes.count) : DecodeError(.syntax(text), offset: position)
    }

    /// The error for finding something other than a value of `kind` at the current position.
    func mismatch(_ kind: Kind) -> DecodeError {
        guard position < bytes.count, Self.kind(startingWith: bytes[position]) != nil else {
            return syntaxError("expected a value")
        }
        return typeMismatch(expected: Self.name(of: kind))
    }

    /// The name of a kind in error messages.
    static func name(of kind: Kind) -> String {
        switch kind {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }
}
