// What a PostgreSQL target says, and the same text safe to print.
//
// libpq takes two spellings of one target (PostgreSQL docs, "Connection Strings"):
//   URL            postgresql://[user[:password]@][host][:port][,...][/dbname][?keyword=value&...]
//                  (also postgres://; components may be percent-encoded)
//   keyword/value  host=localhost port=5432 dbname=fleet user=fw password='a b\'c' (values quoted with ' and
//                  escaped with \, spaces around = allowed)
// libpq parses them itself when it connects; this type parses only what logs, errors and the command line need,
// and never keeps the password. The redaction rule errs toward hiding: in a URL the user information ends at the
// last '@' of the authority (libpq ends it at the first), and when the authority has none, at the last '@' before
// the query, so a password with an unencoded '@' or '/' is still hidden; every `password` parameter's value is
// hidden, and in an unterminated quoted value everything after `password=` is.

/// A parsed PostgreSQL connection target (a `postgresql://` URL or a libpq keyword/value string), without its
/// password.
///
/// It exists so that the collector can name its database in logs and errors (`redacted`) and decide from `--db`
/// which backend to open (`looksLikePostgres`) without ever printing the password, and without asking libpq.
public struct PostgresURL: Sendable, Equatable {
    /// Which of libpq's two spellings the text used.
    public enum Form: Sendable, Equatable {
        case url
        case keywordValue
    }

    /// The spelling of the original text.
    public let form: Form
    /// The user name, percent-decoded (nil: libpq's default, the operating-system user).
    public let user: String?
    /// The host as written (a name, an address, a socket directory, or a comma-separated list), decoded.
    public let host: String?
    /// The port as written (one number, or a comma-separated list matching several hosts).
    public let port: String?
    /// The database name, decoded (nil: libpq's default, the user name).
    public let database: String?
    /// Whether the text carries a password (the password itself is not kept).
    public let hasPassword: Bool
    /// Every other parameter (`sslmode`, `connect_timeout`, `application_name`, …), decoded; the last one wins, as
    /// in libpq.
    public let parameters: [String: String]
    /// The original text with the password's value replaced by `***`, for logs and error messages.
    public let redacted: String

    /// Parses a URL (`postgresql://` or `postgres://`) or a keyword/value string.
    ///
    /// A text that is neither (no scheme and no `=`) is what libpq takes as a bare database name.
    /// - Throws: `PostgresError` (call `PostgresURL`) for what libpq would also refuse: an unterminated quote, a
    ///   keyword without `=`, a bad percent escape; its message quotes the text redacted.
    public init(parsing text: String) throws(PostgresError) {
        if Self.hasURLScheme(text) {
            self = try Self.parseURL(text)
        } else if text.contains("=") {
            self = try Self.parseKeywordValue(text)
        } else {
            self.init(
                form: .keywordValue, user: nil, host: nil, port: nil, database: text.isEmpty ? nil : text,
                hasPassword: false, parameters: [:], redacted: text)
        }
    }

    init(
        form: Form, user: String?, host: String?, port: String?, database: String?, hasPassword: Bool,
        parameters: [String: String], redacted: String
    ) {
        self.form = form
        self.user = user
        self.host = host
        self.port = port
        self.database = database
        self.hasPassword = hasPassword
        self.parameters = parameters
        self.redacted = redacted
    }

    /// `text` with every password hidden, whether or not it parses: what an error message may quote.
    public static func redact(_ text: String) -> String {
        if hasURLScheme(text) { return redactURL(text) }
        return redactKeywordValue(text)
    }

    /// Whether `text` names a PostgreSQL target rather than a file: a `postgresql://` or `postgres://` URL, or a
    /// keyword/value string (`host=… dbname=…`). A path never contains `=` in practice; one that does can be
    /// written `./name`.
    public static func looksLikePostgres(_ text: String) -> Bool {
        if hasURLScheme(text) { return true }
        guard !text.hasPrefix("/"), !text.hasPrefix("./") else { return false }
        return (try? parseKeywordValue(text)) != nil
    }

    static let schemes = ["postgresql://", "postgres://"]

    static func hasURLScheme(_ text: String) -> Bool {
        schemes.contains { text.lowercased().hasPrefix($0) }
    }
}

// MARK: - The URL form

extension PostgresURL {
    /// The parts of a URL's text, as byte ranges of its UTF-8: the scheme, the user information (if any), the
    /// host-and-port list, the path and the query.
    struct URLParts {
        var bytes: [UInt8]
        var schemeEnd: Int
        /// `user[:password]`, without its '@'.
        var userInfo: Range<Int>?
        var hostPort: Range<Int>
        var path: Range<Int>?
        var query: Range<Int>?

        init(_ text: String) {
            bytes = Array(text.utf8)
            schemeEnd = PostgresURL.schemes.first { text.lowercased().hasPrefix($0) }.map { $0.utf8.count } ?? 0
            let rest = schemeEnd..<bytes.count
            let slash = bytes[rest].firstIndex(of: UInt8(ascii: "/")) ?? bytes.count
            let firstQuestion = bytes[rest].firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
            var at = bytes[schemeEnd..<slash].lastIndex(of: UInt8(ascii: "@"))
            if at == nil {
                // A password with an unencoded '/' (libpq would not read it as one, but it is still a secret).
                at = bytes[schemeEnd..<firstQuestion].lastIndex(of: UInt8(ascii: "@"))
            }
            var hostStart = schemeEnd
            if let at {
                userInfo = schemeEnd..<at
                hostStart = at + 1
            }
            let questionAfterHost = bytes[hostStart...].firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
            let slashAfterHost = bytes[hostStart..<questionAfterHost].firstIndex(of: UInt8(ascii: "/"))
            hostPort = hostStart..<(slashAfterHost ?? questionAfterHost)
            if let slashAfterHost { path = (slashAfterHost + 1)..<questionAfterHost }
            if questionAfterHost < bytes.count { query = (questionAfterHost + 1)..<bytes.count }
        }

        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
    }

    static func parseURL(_ text: String) throws(PostgresError) -> PostgresURL {
        let parts = URLParts(text)
        let redacted = redactURL(text)
        func decode(_ range: Range<Int>) throws(PostgresError) -> String {
            guard let value = percentDecoded(parts.bytes[range]) else {
                throw PostgresError(call: "PostgresURL", message: "bad percent escape in \(redacted)")
            }
            return value
        }
        var user: String?
        var hasPassword = false
        if let info = parts.userInfo {
            let colon = parts.bytes[info].firstIndex(of: UInt8(ascii: ":"))
            let userRange = info.lowerBound..<(colon ?? info.upperBound)
            if !userRange.isEmpty { user = try decode(userRange) }
            hasPassword = colon != nil
        }
        var host: String?
        var port: String?
        // Each comma-separated entry is host[:port], host possibly an [IPv6] literal; ports gathered in order.
        var hosts: [String] = []
        var ports: [String] = []
        for entry in parts.text(parts.hostPort).split(separator: ",", omittingEmptySubsequences: false) {
            var hostText = Substring(entry)
            var portText: Substring?
            if let close = entry.lastIndex(of: "]"), entry.hasPrefix("[") {
                hostText = entry[entry.index(after: entry.startIndex)..<close]
                let after = entry[entry.index(after: close)...]
                if after.hasPrefix(":") { portText = after.dropFirst() }
            } else if let colon = entry.lastIndex(of: ":") {
                hostText = entry[..<colon]
                portText = entry[entry.index(after: colon)...]
            }
            guard let decodedHost = percentDecoded(ArraySlice(hostText.utf8)) else {
                throw PostgresError(call: "PostgresURL", message: "bad percent escape in \(redacted)")
            }
            hosts.append(decodedHost)
            if let portText {
                guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit) else {
                    throw PostgresError(call: "PostgresURL", message: "bad port \"\(portText)\" in \(redacted)")
                }
                ports.append(String(portText))
            }
        }
        if hosts.contains(where: { !$0.isEmpty }) { host = hosts.joined(separator: ",") }
        if !ports.isEmpty { port = ports.joined(separator: ",") }
        var database: String?
        if let path = parts.path, !path.isEmpty { database = try decode(path) }
        var parameters: [String: String] = [:]
        if let query = parts.query {
            for pair in parts.bytes[query].split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                guard let key = percentDecoded(pair[pair.startIndex..<equals]),
                    let value = percentDecoded(pair[min(equals + 1, pair.endIndex)...])
                else { throw PostgresError(call: "PostgresURL", message: "bad percent escape in \(redacted)") }
                guard equals < pair.endIndex else {
                    throw PostgresError(
                        call: "PostgresURL", message: "query parameter \"\(key)\" has no '=' in \(redacted)")
                }
                switch key {
                case "password": hasPassword = true
                case "user": user = value
                case "host": host = value
                case "port": port = value
                case "dbname": database = value
                default: parameters[key] = value
                }
            }
        }
        return PostgresURL(
            form: .url, user: user, host: host, port: port, database: database, hasPassword: hasPassword,
            parameters: parameters, redacted: redacted)
    }

    static func redactURL(_ text: String) -> String {
        let parts = URLParts(text)
        var output = Array(parts.bytes[0..<parts.schemeEnd])
        if let info = parts.userInfo {
            if let colon = parts.bytes[info].firstIndex(of: UInt8(ascii: ":")) {
                output += parts.bytes[info.lowerBound...colon] + Array("***".utf8)
            } else {
                output += parts.bytes[info]
            }
            output.append(UInt8(ascii: "@"))
        }
        let queryStart = parts.query.map { $0.lowerBound } ?? parts.bytes.count
        output += parts.bytes[parts.hostPort.lowerBound..<queryStart]
        if let query = parts.query {
            let pairs = parts.bytes[query].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false)
            for (index, pair) in pairs.enumerated() {
                if index > 0 { output.append(UInt8(ascii: "&")) }
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                if percentDecoded(pair[pair.startIndex..<equals]) == "password", equals < pair.endIndex {
                    output += pair[pair.startIndex...equals] + Array("***".utf8)
                } else {
                    output += pair
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The UTF-8 text of `bytes` with `%XX` escapes decoded; nil for a malformed escape.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
