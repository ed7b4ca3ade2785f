/// A failure of PostgreSQL or of libpq, with what the caller needs to decide and to report.
///
/// It exists so that the storage backend can tell a duplicate or a constraint (the SQLSTATE) from a lost
/// connection (`isConnectionBad`: reconnect and retry) and can log which call failed against which database, all
/// without a libpq type and without the password: `target` is always the redacted connection text.
public struct PostgresError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The call that failed: a libpq function (`PQconnectdbParams`, `PQexecParams`, `PQsendQueryParams`,
    /// `PQpipelineSync`, `PQgetResult`, …) or one of ours (`PostgresURL`, `decode`, `parameter`).
    public var call: String
    /// The server's five-character SQLSTATE (`42601` syntax error, `23505` unique violation, `08006` connection
    /// failure, …); nil when the error did not come from the server (a refused connection, a closed connection).
    public var sqlState: String?
    /// The primary message: the server's when there is one, otherwise libpq's or ours, trimmed.
    public var message: String
    /// The server's optional detail.
    public var detail: String?
    /// The server's optional hint.
    public var hint: String?
    /// The connection the call used, with its password replaced by `***` (nil before there is one).
    public var target: String?
    /// Whether the connection was unusable after the failure (libpq's `CONNECTION_BAD`): reconnect before retrying.
    public var isConnectionBad: Bool

    /// An error of `call` with the given fields.
    public init(
        call: String, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil,
        target: String? = nil, isConnectionBad: Bool = false
    ) {
        self.call = call
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.target = target
        self.isConnectionBad = isConnectionBad
    }

    /// `call (target): [SQLSTATE] message; detail; hint`: one line for a log.
    public var description: String {
        var text = call
        if let target { text += " (\(target))" }
        text += ": "
        if let sqlState { text += "[\(sqlState)] " }
        text += message
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        return text
    }

    /// SQLSTATE 23505: a unique or primary-key constraint refused a row.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// SQLSTATE class 40 (serialization failure, deadlock): the transaction may simply be retried.
    public var isTransactionRollback: Bool { sqlState?.hasPrefix("40") ?? false }
}

extension PostgresError {
    /// `message` with every occurrence of `secret` replaced by `***` (a server or libpq message could echo the
    /// connection text), and libpq's trailing newline removed.
    static func scrubbed(_ message: String, hiding secrets: [String]) -> String {
        var text = message
        for secret in secrets where !secret.isEmpty {
            text = text.replacingAll(secret, with: "***")
        }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

extension String {
    /// The string with every non-overlapping occurrence of `target` replaced (Foundation-free).
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        let source = Array(utf8)
        let pattern = Array(target.utf8)
        guard !pattern.isEmpty, source.count >= pattern.count else { return self }
        var output: [UInt8] = []
        output.reserveCapacity(source.count)
        var index = 0
        while index < source.count {
            if index + pattern.count <= source.count, source[index..<(index + pattern.count)].elementsEqual(pattern) {
                output += Array(replacement.utf8)
                index += pattern.count
            } else {
                output.append(source[index])
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
