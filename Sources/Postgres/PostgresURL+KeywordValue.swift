// libpq's keyword/value spelling, read as libpq's conninfo_parse reads it: whitespace-separated `keyword = value`
// pairs; a value is either unquoted (up to the next whitespace) or in single quotes; in both, a backslash takes the
// next character literally. Redaction replaces the value's exact bytes (quotes included) with `***`, leaving the
// rest of the text as written.

extension PostgresURL {
    /// One `keyword=value` pair: the keyword, the decoded value, and where the value's text (quotes included) lies
    /// in the UTF-8 bytes.
    struct KeywordValuePair {
        var keyword: String
        var value: String
        var valueRange: Range<Int>
    }

    /// Why a keyword/value text does not parse, and from which byte on a redaction must hide everything (an
    /// unterminated password value).
    struct KeywordValueFailure: Error {
        var message: String
        var hideFrom: Int?
    }

    static func keywordValuePairs(_ bytes: [UInt8]) -> Result<[KeywordValuePair], KeywordValueFailure> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        var pairs: [KeywordValuePair] = []
        var index = 0
        while true {
            while index < bytes.count, isSpace(bytes[index]) { index += 1 }
            guard index < bytes.count else { break }
            let keywordStart = index
            while index < bytes.count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: "=") { index += 1 }
            let keyword = String(decoding: bytes[keywordStart..<index], as: UTF8.self)
            while index < bytes.count, isSpace(bytes[index]) { index += 1 }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                return .failure(KeywordValueFailure(message: "missing \"=\" after \"\(keyword)\"", hideFrom: nil))
            }
            index += 1
            while index < bytes.count, isSpace(bytes[index]) { index += 1 }
            let valueStart = index
            var value: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "'") {
                index += 1
                var isClosed = false
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        value.append(bytes[index + 1])
                        index += 2
                    } else if byte == UInt8(ascii: "'") {
                        index += 1
                        isClosed = true
                        break
                    } else {
                        value.append(byte)
                        index += 1
                    }
                }
                guard isClosed else {
                    return .failure(
                        KeywordValueFailure(
                            message: "unterminated quoted string for \"\(keyword)\"",
                            hideFrom: keyword == "password" ? valueStart : nil))
                }
            } else {
                while index < bytes.count, !isSpace(bytes[index]) {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    value.append(bytes[index])
                    index += 1
                }
            }
            pairs.append(
                KeywordValuePair(
                    keyword: keyword, value: String(decoding: value, as: UTF8.self), valueRange: valueStart..<index))
        }
        guard !pairs.isEmpty else {
            return .failure(KeywordValueFailure(message: "no keyword=value pair", hideFrom: nil))
        }
        return .success(pairs)
    }

    static func parseKeywordValue(_ text: String) throws(PostgresError) -> PostgresURL {
        let pairs: [KeywordValuePair]
        switch keywordValuePairs(Array(text.utf8)) {
        case .success(let parsed): pairs = parsed
        case .failure(let failure):
            throw PostgresError(call: "PostgresURL", message: "\(failure.message) in \(redactKeywordValue(text))")
        }
        var user: String?
        var host: String?
        var port: String?
        var database: String?
        var hasPassword = false
        var parameters: [String: String] = [:]
        for pair in pairs {
            switch pair.keyword {
            case "password": hasPassword = true
            case "user": user = pair.value
            case "host": host = pair.value
            case "port": port = pair.value
            case "dbname": database = pair.value
            default: parameters[pair.keyword] = pair.value
            }
        }
        return PostgresURL(
            form: .keywordValue, user: user, host: host, port: port, database: database, hasPassword: hasPassword,
            parameters: parameters, redacted: redactKeywordValue(text))
    }

    /// `text` with the value of every `password` keyword replaced by `***`; if the text does not parse, everything
    /// from an unterminated password value on, or, when the failure is elsewhere, every `password` value found
    /// before it.
    static func redactKeywordValue(_ text: String) -> String {
        let bytes = Array(text.utf8)
        switch keywordValuePairs(bytes) {
        case .success(let pairs):
            return replacing(pairs.filter { $0.keyword == "password" }.map(\.valueRange), in: bytes)
        case .failure(let failure):
            if let hideFrom = failure.hideFrom { return replacing([hideFrom..<bytes.count], in: bytes) }
            // Parse the longest prefix that parses, so that a password before the error is still found; if none is
            // found and the text mentions one, hide all of it rather than guess.
            var end = bytes.count
            while end > 0 {
                end -= 1
                if case .success(let pairs) = keywordValuePairs(Array(bytes[0..<end])) {
                    let ranges = pairs.filter { $0.keyword == "password" }.map(\.valueRange)
                    let tail = String(decoding: bytes[end...], as: UTF8.self)
                    if tail.contains("password") { return replacing(ranges + [end..<bytes.count], in: bytes) }
                    return replacing(ranges, in: bytes)
                }
            }
            return text.contains("password") ? "***" : text
        }
    }

    /// `bytes` with each of the (ascending, disjoint) ranges replaced by `***`.
    static func replacing(_ ranges: [Range<Int>], in bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var position = 0
        for range in ranges {
            output += bytes[position..<range.lowerBound]
            output += Array("***".utf8)
            position = range.upperBound
        }
        output += bytes[position...]
        return String(decoding: output, as: UTF8.self)
    }
}
