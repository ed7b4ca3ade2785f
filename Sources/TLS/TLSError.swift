// Errors from OpenSSL, turned into text once: what we were doing, and the library's own reason (from its error
// queue, which is emptied so the next call starts clean).

internal import COpenSSL

/// A TLS set-up or handshake failure, with OpenSSL's reason. Messages name files, never key material.
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What failed, and why.
    public var description: String

    /// A failure described by `description`.
    public init(_ description: String) { self.description = description }

    /// `what` failed; OpenSSL's queued reasons (if any) are appended and the queue is cleared.
    static func openSSL(_ what: String) -> TLSError {
        let reasons = drainErrorQueue()
        return TLSError(reasons.isEmpty ? what : "\(what): \(reasons)")
    }

    /// OpenSSL's queued error reasons, joined; empties the queue.
    static func drainErrorQueue() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "error:0A000086:SSL routines::certificate verify failed" → the part after the last "::" or ":".
            let reason = text.split(separator: ":", omittingEmptySubsequences: true).last.map(String.init) ?? text
            if !reasons.contains(reason) { reasons.append(reason) }
        }
        return reasons.joined(separator: "; ")
    }
}
