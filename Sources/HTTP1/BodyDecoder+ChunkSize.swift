extension BodyDecoder {
    /// Parses a chunk-size line without its CRLF (RFC 9112 §7.1): `chunk-size [ chunk-ext ]`, where
    /// `chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )` and `ext-val` is a token or a
    /// quoted-string. Extensions are checked and ignored. A size too large for `Int` saturates: it is over any
    /// body limit anyway.
    static func parseChunkSizeLine(_ line: [UInt8]) -> Result<Int, HTTPParseError> {
        var index = 0
        var size = 0
        while index < line.count, let digit = line[index].hexValue {
            size = size > (Int.max - 15) / 16 ? Int.max : size * 16 + digit
            index += 1
        }
        guard index > 0 else { return .failure(HTTPParseError(.badRequest, "invalid chunk size")) }
        if index < line.count, !line[index].isWhitespace, line[index] != ASCII.semicolon {
            return .failure(HTTPParseError(.badRequest, "invalid chunk size"))
        }
        guard isValidChunkExtensions(line[index...]) else {
            return .failure(HTTPParseError(.badRequest, "invalid chunk extension"))
        }
        return .success(size)
    }

    /// Whether bytes are a valid (possibly empty) `chunk-ext`.
    private static func isValidChunkExtensions(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        func skipWhitespace() { while index < bytes.endIndex, bytes[index].isWhitespace { index += 1 } }
        func skipToken() -> Bool {
            let start = index
            while index < bytes.endIndex, bytes[index].isTokenChar { index += 1 }
            return index > start
        }
        while index < bytes.endIndex {
            skipWhitespace()
            guard index < bytes.endIndex, bytes[index] == ASCII.semicolon else { return false }
            index += 1
            skipWhitespace()
            guard skipToken() else { return false }
            skipWhitespace()
            guard index < bytes.endIndex else { return true }
            guard bytes[index] == ASCII.equals else { continue }
            index += 1
            skipWhitespace()
            if index < bytes.endIndex, bytes[index] == ASCII.quote {
                guard let end = quotedStringEnd(bytes, from: index) else { return false }
                index = end
            } else if !skipToken() {
                return false
            }
        }
        return true
    }

    /// The index past a quoted-string starting at `start` (its opening DQUOTE), or nil when it is malformed.
    private static func quotedStringEnd(_ bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case ASCII.quote:
                return index + 1
            case ASCII.backslash:
                guard index + 1 < bytes.endIndex, bytes[index + 1].isFieldValueChar else { return nil }
                index += 2
            default:
                guard byte.isFieldValueChar else { return nil }
                index += 1
            }
        }
        return nil
    }
}
