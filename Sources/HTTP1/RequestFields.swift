/// What the request-only fields of one head say: `Host` (RFC 9112 §3.2) and `Expect` (RFC 9110 §10.1.1).
struct RequestFields: Sendable {
    /// How many Host fields were seen.
    private(set) var hostCount = 0
    /// Whether `Expect: 100-continue` was seen in an HTTP/1.1 request.
    private(set) var hasExpectContinue = false

    /// Takes one field; returns the refusal when it is a fault: a second or invalid Host (400), or an Expect other
    /// than `100-continue` in an HTTP/1.1 request (417; HTTP/1.0 requests have their Expect ignored).
    mutating func take(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>, version: HTTPVersion) -> HTTPParseError? {
        if FramingFields.equalsIgnoringCase(name, "host") {
            hostCount += 1
            guard hostCount == 1 else { return HTTPParseError(.badRequest, "more than one Host") }
            guard value.allSatisfy(RequestFields.isHostChar) else { return HTTPParseError(.badRequest, "invalid Host") }
        } else if FramingFields.equalsIgnoringCase(name, "expect"), version.isAtLeastHTTP1_1 {
            var isContinue = true
            var count = 0
            HTTPHeaders.forEachListElement(in: value) { expectation in
                count += 1
                if !FramingFields.equalsIgnoringCase(expectation, "100-continue") { isContinue = false }
            }
            guard isContinue, count > 0 else { return HTTPParseError(.expectationFailed, "unsupported Expect value") }
            hasExpectContinue = true
        }
        return nil
    }

    /// A byte allowed in `Host = uri-host [ ":" port ]`: unreserved, sub-delims, `%`, `:`, and IP-literal brackets.
    private static func isHostChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true  // DIGIT, ALPHA
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: "="):
            true
        case UInt8(ascii: "%"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"): true
        default: false
        }
    }
}
