// Building a `JSONValue` tree with the strict scanner. Recursion is bounded by the scanner's depth limit.
// Errors carry the path of the value where they were found (`items[2].name`), built only on the way out.

extension JSONValue {
    /// Parses one complete JSON document (surrounding whitespace allowed).
    ///
    /// Strict RFC 8259: see `JSONScanner`. Objects with a repeated key are refused with `.duplicateField`.
    public static func parse<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, maxDepth: Int = JSONScanner.defaultMaxDepth
    ) throws(DecodeError) -> JSONValue {
        try JSONScanner.scan(bytes, maxDepth: maxDepth) { (scanner) throws(DecodeError) -> JSONValue in
            let value = try read(&scanner)
            try scanner.finish()
            return value
        }
    }

    /// Reads the next value and everything inside it.
    static func read(_ scanner: inout JSONScanner) throws(DecodeError) -> JSONValue {
        switch try scanner.peekKind() {
        case .null:
            try scanner.readNull()
            return .null
        case .bool:
            return .bool(try scanner.readBool())
        case .number:
            let token = try scanner.readNumber()
            return .number(scanner.string(JSONStringToken(range: token.range, hasEscapes: false)))
        case .string:
            return .string(scanner.string(try scanner.readString()))
        case .array:
            try scanner.beginArray()
            var elements: [JSONValue] = []
            while try scanner.nextElement() {
                do {
                    elements.append(try read(&scanner))
                } catch {
                    throw error.inside(index: elements.count)
                }
            }
            return .array(elements)
        case .object:
            return .object(try readMembers(&scanner))
        }
    }

    /// Reads the members of an object whose `{` is next.
    private static func readMembers(_ scanner: inout JSONScanner) throws(DecodeError) -> [Member] {
        try scanner.beginObject()
        var members: [Member] = []
        var keys: Set<String> = []
        while let token = try scanner.nextKey() {
            let key = scanner.string(token)
            let isDuplicate = members.count < 8 ? members.contains { $0.key == key } : keys.contains(key)
            if isDuplicate {
                throw DecodeError(
                    .duplicateField, path: DecodeError.pathComponent(key: key),
                    offset: token.range.lowerBound - 1)
            }
            if members.count >= 7 {
                if keys.isEmpty { keys = Set(members.map(\.key)) }
                keys.insert(key)
            }
            do {
                members.append(Member(key: key, value: try read(&scanner)))
            } catch {
                throw error.inside(key: key)
            }
        }
        return members
    }
}
