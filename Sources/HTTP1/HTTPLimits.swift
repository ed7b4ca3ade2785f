/// Limits both parsers enforce, each checked as soon as the length it bounds is known, before buffering.
///
/// A request over a limit is refused with the status the limit names (414, 431, 413, 400); the response parser
/// uses the same limits and reports the same errors, which the simulator records rather than sends.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line or status line, in bytes, its CRLF not counted (over it: 414 URI Too Long).
    public var maxStartLineBytes: Int
    /// Largest header section: the field lines with their CRLFs, the blank line that ends the head not counted
    /// (over it: 431). The same limit applies to a chunked body's trailer section.
    public var maxHeaderSectionBytes: Int
    /// Most field lines in a header (or trailer) section (over it: 431).
    public var maxHeaderFields: Int
    /// Largest body on the wire: the Content-Length, or the whole chunked encoding, chunk-size lines, CRLFs,
    /// last chunk and trailers included (over it: 413).
    public var maxBodyBytes: Int
    /// Longest chunk-size line, extensions included, its CRLF not counted (over it: 400).
    public var maxChunkLineBytes: Int
    /// Most empty lines (CRLF) skipped before a request line (over it: 400).
    public var maxLeadingEmptyLines: Int

    /// Limits with the given values; the defaults are those of `standard`.
    public init(
        maxStartLineBytes: Int = 8192,
        maxHeaderSectionBytes: Int = 16384,
        maxHeaderFields: Int = 100,
        maxBodyBytes: Int = 1 << 20,
        maxChunkLineBytes: Int = 1024,
        maxLeadingEmptyLines: Int = 8
    ) {
        self.maxStartLineBytes = maxStartLineBytes
        self.maxHeaderSectionBytes = maxHeaderSectionBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
        self.maxLeadingEmptyLines = maxLeadingEmptyLines
    }

    /// 8 KiB start line, 16 KiB and 100 header fields, 1 MiB body, 1 KiB chunk-size line, 8 leading empty lines.
    public static let standard = HTTPLimits()
}
