/// How many bytes one message occupied on the wire, split into head and body.
///
/// The rules: `head` runs from the message's first byte (the empty lines skipped before a request line included)
/// through the blank line that ends the header section; `body` is everything after it that belongs to the message:
/// the Content-Length bytes, or the whole chunked encoding (chunk-size lines and extensions, data, the CRLF after
/// each chunk, the last chunk, trailer fields and the final CRLF). `chunkFraming` is the part of `body` that is not
/// payload. The parsers consume every byte exactly once, so over a connection the totals of all completed
/// messages plus the bytes of an unfinished or refused one equal the bytes fed.
public struct HTTPMessageBytes: Sendable, Equatable, CustomStringConvertible {
    /// Start line, header fields and the blank line, leading empty lines included.
    public var head: Int
    /// The body's wire encoding, chunk framing and trailers included.
    public var body: Int
    /// The part of `body` that is chunk framing or trailers rather than payload; 0 unless chunked.
    public var chunkFraming: Int

    /// Counts from their parts.
    public init(head: Int = 0, body: Int = 0, chunkFraming: Int = 0) {
        self.head = head
        self.body = body
        self.chunkFraming = chunkFraming
    }

    /// Every byte of the message: head plus body.
    public var total: Int { head + body }
    /// The body's payload: body bytes minus chunk framing.
    public var payload: Int { body - chunkFraming }

    /// `head 150 + body 2048 (framing 0)`, for example.
    public var description: String { "head \(head) + body \(body) (framing \(chunkFraming))" }
}
