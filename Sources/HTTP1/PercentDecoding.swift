/// Percent-decoding for the pieces of a request target (RFC 3986 §2.1): path segments and query parameters.
///
/// Split first, then decode, so an escaped `/` (`%2F`) stays inside its segment and an escaped `&` or `=` inside its
/// parameter. Decoding is strict: a `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded,
/// make the whole result nil (answer 400). Decoded text may contain any character, `%00` included: validating
/// identifiers is the caller's job.
public enum PercentDecoding {
    /// One `name=value` pair of a query, both decoded.
    public struct QueryItem: Sendable, Hashable {
        /// The decoded name.
        public var name: String
        /// The decoded value; empty when the pair has no `=`.
        public var value: String

        /// A pair from its parts.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Decodes `%XX` escapes (and, with `plusAsSpace`, `+` as a space, as forms encode queries); nil when an
    /// escape is malformed or the result is not valid UTF-8.
    public static func decode(_ component: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        let utf8 = Array(component.utf8)
        guard utf8.contains(ASCII.percent) || (plusAsSpace && utf8.contains(UInt8(ascii: "+"))) else {
            return String(component)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == ASCII.percent {
                guard index + 2 < utf8.count, let high = utf8[index + 1].hexValue, let low = utf8[index + 2].hexValue
                else { return nil }
                decoded.append(UInt8(high * 16 + low))
                index += 3
            } else {
                decoded.append(plusAsSpace && byte == UInt8(ascii: "+") ? ASCII.space : byte)
                index += 1
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }

    /// The path split at `/`, each segment decoded: `/v1/devices/dev%2F1` → `["v1", "devices", "dev/1"]`.
    /// The leading `/` yields no segment; empty segments (`//`, a trailing `/`) are kept as "". nil when a segment
    /// does not decode.
    public static func pathSegments(_ path: some StringProtocol) -> [String]? {
        var rest = Substring(path)
        if rest.first == "/" { rest = rest.dropFirst() }
        if rest.isEmpty { return [] }
        var segments: [String] = []
        for segment in rest.split(separator: "/", omittingEmptySubsequences: false) {
            guard let decoded = decode(segment) else { return nil }
            segments.append(decoded)
        }
        return segments
    }

    /// The query split at `&` into pairs split at the first `=`, both decoded with `+` as a space; empty pieces
    /// (`a=1&&b=2`) are skipped. nil when a name or value does not decode.
    public static func queryItems(_ query: some StringProtocol) -> [QueryItem]? {
        var items: [QueryItem] = []
        for piece in query.split(separator: "&") {
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0], plusAsSpace: true),
                let value = parts.count > 1 ? decode(parts[1], plusAsSpace: true) : ""
            else { return nil }
            items.append(QueryItem(name: name, value: value))
        }
        return items
    }
}
