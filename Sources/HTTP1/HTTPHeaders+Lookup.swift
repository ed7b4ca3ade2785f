extension HTTPHeaders {
    /// The value of the first field with this name (compared case-insensitively), or nil.
    public subscript(name: String) -> String? {
        guard let position = firstIndex(named: name) else { return nil }
        return String(decoding: valueBytes(at: position), as: UTF8.self)
    }

    /// The values of every field with this name, in order.
    public func values(named name: String) -> [String] {
        ranges.indices.filter { hasName(name, at: $0) }.map { String(decoding: valueBytes(at: $0), as: UTF8.self) }
    }

    /// Whether a field with this name is present.
    public func contains(name: String) -> Bool { firstIndex(named: name) != nil }

    /// The position of the first field with this name, or nil.
    public func firstIndex(named name: String) -> Int? {
        ranges.indices.first { hasName(name, at: $0) }
    }

    /// Whether the field at a position has this name, compared case-insensitively (ASCII).
    public func hasName(_ name: String, at position: Int) -> Bool {
        let range = ranges[position]
        var utf8 = name.utf8.makeIterator()
        var index = range.nameStart
        while index < range.nameEnd {
            guard let byte = utf8.next(), byte.lowercasedASCII == storage[index].lowercasedASCII else { return false }
            index += 1
        }
        return utf8.next() == nil
    }

    /// Whether a comma-separated list field (like `Connection`) holds this token, compared case-insensitively,
    /// in any of its lines.
    public func containsToken(_ token: String, inFieldNamed name: String) -> Bool {
        for position in ranges.indices where hasName(name, at: position) {
            var found = false
            HTTPHeaders.forEachListElement(in: valueBytes(at: position)) { element in
                if element.count == token.utf8.count,
                    zip(element, token.utf8).allSatisfy({ $0.lowercasedASCII == $1.lowercasedASCII })
                {
                    found = true
                }
            }
            if found { return true }
        }
        return false
    }

    /// Calls `body` with each non-empty element of a comma-separated list value, whitespace trimmed
    /// (RFC 9110 §5.6.1: empty elements are ignored).
    static func forEachListElement(in value: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Void) {
        var start = value.startIndex
        while start <= value.endIndex {
            let end = value[start...].firstIndex(of: ASCII.comma) ?? value.endIndex
            var element = value[start..<end]
            while let first = element.first, first.isWhitespace { element = element.dropFirst() }
            while let last = element.last, last.isWhitespace { element = element.dropLast() }
            if !element.isEmpty { body(element) }
            start = end + 1
        }
    }
}
