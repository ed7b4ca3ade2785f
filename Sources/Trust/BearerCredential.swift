// The credential in an `Authorization` header (RFC 6750 section 2.1): `Bearer <token>`. The scheme name is
// case-insensitive (RFC 9110 section 11.1) and followed by one or more spaces; the token is everything after
// them, with no surrounding whitespace allowed beyond what HTTP already trims from field values.

/// Reads a bearer token out of an `Authorization` header value.
public enum BearerCredential {
    /// The token of `Bearer <token>`; nil when the value is missing, uses another scheme or has an empty token.
    public static func token(in header: String?) -> Substring? {
        guard let header else { return nil }
        let scheme = "bearer"
        guard header.utf8.count > scheme.count,
            header.prefix(scheme.count).lowercased() == scheme
        else { return nil }
        let rest = header.dropFirst(scheme.count)
        guard rest.first == " " else { return nil }
        let token = rest.drop { $0 == " " }
        guard !token.isEmpty, !token.contains(" "), !token.contains("\t") else { return nil }
        return token
    }
}
