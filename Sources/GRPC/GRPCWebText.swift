// `application/grpc-web-text`: the gRPC-Web frames in base64 (RFC 4648 §4, with padding). A body may be the
// base64 of all its bytes at once, or of its pieces one after another, each padded (PROTOCOL-WEB lets a sender
// encode each write separately), so padding may appear inside the body: after `=` the next quantum starts afresh.
// The decoder takes the body in pieces split anywhere, keeps at most three characters between pieces, and refuses
// anything else with the offset of the first bad character; whitespace is not allowed.

/// Incremental base64 decoding of a grpc-web-text body, and the encoding of a response's writes.
public struct GRPCWebText: Sendable {
    /// Why a grpc-web-text body is not base64.
    public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Offset of the offending character in the whole body.
        public var offset: Int
        /// What is wrong.
        public var reason: String

        /// An error at `offset` for `reason`.
        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }

        /// A sentence for the call's status.
        public var description: String { "grpc-web-text body is not base64: \(reason) at byte \(offset)" }
    }

    private var quantum: [UInt8] = []  // up to 3 characters of an unfinished 4-character group
    private var consumed = 0

    /// A decoder at the start of a body.
    public init() {}

    /// True when the characters so far end on a group boundary (a body may end only there).
    public var isAtBoundary: Bool { quantum.isEmpty }

    /// Decodes the next piece of the body; bytes of an unfinished group wait for the next piece.
    public mutating func decode(_ piece: some Collection<UInt8>) throws(DecodeError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(piece.count * 3 / 4 + 3)
        for character in piece {
            guard character == UInt8(ascii: "=") || Self.value(of: character) != nil else {
                throw DecodeError(offset: consumed, reason: "character 0x\(String(character, radix: 16))")
            }
            quantum.append(character)
            consumed += 1
            guard quantum.count == 4 else { continue }
            try Self.decodeGroup(quantum, into: &out, endingAt: consumed)
            quantum.removeAll(keepingCapacity: true)
        }
        return out
    }

    /// The body ended: throws when it ended inside a group.
    public func finish() throws(DecodeError) {
        guard quantum.isEmpty else {
            throw DecodeError(offset: consumed, reason: "the body ends inside a 4-character group")
        }
    }

    /// `bytes` in base64 with padding: one write of a grpc-web-text response.
    public static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let a = input[index]
            let b = index + 1 < input.count ? input[index + 1] : 0
            let c = index + 2 < input.count ? input[index + 2] : 0
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x03) << 4 | b >> 4)])
            out.append(index + 1 < input.count ? alphabet[Int((b & 0x0F) << 2 | c >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < input.count ? alphabet[Int(c & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    /// One 4-character group: `xxxx`, `xxx=` or `xx==`; the bits padding drops must be zero (one encoding each).
    private static func decodeGroup(_ group: [UInt8], into out: inout [UInt8], endingAt end: Int) throws(DecodeError) {
        let padding = group.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else {
            throw DecodeError(offset: end - padding, reason: "more than two padding characters in a group")
        }
        var values: [UInt8] = []
        for (position, character) in group.prefix(4 - padding).enumerated() {
            guard let value = value(of: character) else {
                throw DecodeError(offset: end - 4 + position, reason: "padding before the end of a group")
            }
            values.append(value)
        }
        out.append(values[0] << 2 | values[1] >> 4)
        if padding == 2 {
            guard values[1] & 0x0F == 0 else { throw DecodeError(offset: end - 3, reason: "nonzero bits before padding") }
            return
        }
        out.append((values[1] & 0x0F) << 4 | values[2] >> 2)
        if padding == 1 {
            guard values[2] & 0x03 == 0 else { throw DecodeError(offset: end - 2, reason: "nonzero bits before padding") }
            return
        }
        out.append((values[2] & 0x03) << 6 | values[3])
    }
}
