/// What the framing-related fields of one head say, gathered field by field as the head is read.
///
/// Shared by requests and responses: `Content-Length`, `Transfer-Encoding` and `Connection`. Faults visible in a
/// single field (an invalid or repeated Content-Length) are reported at once; decisions that need the whole head
/// (Content-Length together with Transfer-Encoding, which codings were listed) are made by `transferCodingError()`
/// and the parsers once the head is complete.
struct FramingFields: Sendable {
    /// The Content-Length value, if the field was present (saturated at `Int.max` when absurdly long).
    private(set) var contentLength: Int?
    /// Whether any Transfer-Encoding field was present.
    private(set) var hasTransferEncoding = false
    /// Whether the last listed transfer coding so far is `chunked`.
    private var isChunkedLast = false
    /// Whether a coding followed `chunked` (only `chunked` again can do so without being unsupported).
    private var isChunkedRepeated = false
    /// Whether a coding other than `chunked` was listed.
    private var hasUnsupportedCoding = false
    /// Whether `Connection` lists `close`.
    private(set) var hasClose = false
    /// Whether `Connection` lists `keep-alive`.
    private(set) var hasKeepAlive = false

    /// Takes one field; returns the refusal when this field alone is a fault.
    mutating func take(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) -> HTTPParseError? {
        if FramingFields.equalsIgnoringCase(name, "content-length") {
            guard contentLength == nil else { return HTTPParseError(.badRequest, "more than one Content-Length") }
            guard let length = FramingFields.parseContentLength(value) else {
                return HTTPParseError(.badRequest, "invalid Content-Length")
            }
            contentLength = length
        } else if FramingFields.equalsIgnoringCase(name, "transfer-encoding") {
            hasTransferEncoding = true
            HTTPHeaders.forEachListElement(in: value) { coding in
                if isChunkedLast { isChunkedRepeated = true }
                isChunkedLast = FramingFields.equalsIgnoringCase(coding, "chunked")
                if !isChunkedLast { hasUnsupportedCoding = true }
            }
        } else if FramingFields.equalsIgnoringCase(name, "connection") {
            HTTPHeaders.forEachListElement(in: value) { option in
                if FramingFields.equalsIgnoringCase(option, "close") { hasClose = true }
                if FramingFields.equalsIgnoringCase(option, "keep-alive") { hasKeepAlive = true }
            }
        }
        return nil
    }

    /// The refusal Transfer-Encoding calls for, if any: a coding we do not implement (501), `chunked` applied twice
    /// or not last, or no coding at all (400).
    func transferCodingError() -> HTTPParseError? {
        guard hasTransferEncoding else { return nil }
        if hasUnsupportedCoding { return HTTPParseError(.notImplemented, "unsupported transfer coding") }
        if isChunkedRepeated { return HTTPParseError(.badRequest, "chunked transfer coding applied more than once") }
        if !isChunkedLast { return HTTPParseError(.badRequest, "empty Transfer-Encoding") }
        return nil
    }

    /// Whether the connection stays open after this message, by the version's default and `Connection`
    /// (RFC 9112 §9.3): 1.1 unless `close`; 1.0 only with `keep-alive` and without `close`.
    func isPersistent(version: HTTPVersion) -> Bool {
        if hasClose { return false }
        return version.isAtLeastHTTP1_1 || hasKeepAlive
    }

    /// `Content-Length = 1*DIGIT` after OWS is trimmed (the reader already trimmed it): no sign, no hex, no list.
    static func parseContentLength(_ value: ArraySlice<UInt8>) -> Int? {
        guard !value.isEmpty else { return nil }
        var length = 0
        for byte in value {
            guard byte.isDigit else { return nil }
            length = length > (Int.max - 9) / 10 ? Int.max : length * 10 + Int(byte &- ASCII.zero)
        }
        return length
    }

    /// Whether bytes spell `lowercase` (which must be lower-case ASCII), ignoring ASCII case.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            var position = bytes.startIndex
            for byte in expected {
                guard bytes[position].lowercasedASCII == byte else { return false }
                position += 1
            }
            return true
        }
    }
}
