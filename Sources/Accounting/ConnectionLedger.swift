// Bandwidth accounting: what every byte on every socket is attributed to. The rules live in this module and nowhere
// else; the connections only tell their ledger what happened (bytes read, a request's parts, a stream identified,
// bytes written) and post the rows it hands back.
//
// Invariant (tested here per ledger, and end to end against the socket totals and what each client counted on its own
// socket): every byte read from and written to every socket is attributed exactly once to a `(protocol, device)` row,
// so the rows add up to the bytes that crossed the sockets. Each row also splits its bytes into header, framing and
// payload bytes, which add up to the row's bytes in each direction.
//
// Rules common to both transports (`HTTP1ConnectionLedger`, `HTTP2ConnectionLedger`):
// - Outbound bytes follow the socket, not the serializer: they are queued with their row when produced and booked
//   only as send(2) reports them written (`WrittenBytes`), so output still buffered when a connection dies is never
//   counted.
// - A connection is counted once (`connections`), under the row of its first identified request or stream; one
//   that never had one is counted at close under its connection row. A connection closed before its first bytes
//   told its protocol (`UndecidedConnection`) is counted under (`h2c`, "") when it sent bytes (they matched the
//   HTTP/2 preface so far), else under (`rest-json`, "").
// - Bytes read that no request or frame accounted for (garbage, a request cut short, what a lingering close
//   discarded, a partial frame header) are framing bytes of the connection's row, booked at close.
//
// HTTP/1.1, per request: request line + headers → header; chunked-encoding framing → framing; body → payload.
// Response: status line + headers → header, body → payload (a `100 Continue` counts as header bytes of the request
// it answers). `POST /v1/devices/{device}/readings` → (`rest-json`, device); any other POST, or a request refused
// before its path is known or refused by the access check → (`rest-json`, "") overhead; other methods →
// (`query`, ""). The connection's row is the row of the request being read or answered, else (`rest-json`, "").
//
// HTTP/2, per frame (the collector's scan of frame headers, converted to `StreamByteRun`s): 9-byte frame headers,
// control frames (RST_STREAM, WINDOW_UPDATE, PRIORITY, SETTINGS, PING, GOAWAY) and gRPC's 5-byte message prefixes
// → framing; HEADERS/CONTINUATION/PUSH_PROMISE payloads → header; DATA payload less the prefixes → payload. The
// prefix shift moves 5 bytes per message from payload to framing when the stream is drained, never beyond the DATA
// payload already booked, so no category goes negative. A stream's frames go to its protocol (`grpc-stream` for
// Upload, `grpc-unary` for Push, `rest-json-h2` for REST ingest over h2c, `query` for reads) and device.
// Connection-level bytes (the 24-byte preface, SETTINGS, PING, GOAWAY, connection WINDOW_UPDATE, and frames of
// refused or unidentified streams) go to the device of the connection while it has carried exactly one device,
// otherwise to the overhead row ("" device) of the protocol of the connection's first stream; an h2c connection
// that never opened a stream is booked under (`h2c`, "").
//
// TLS: the handlers see plaintext, so every rule above applies to the bytes inside TLS. The TLS transport counts the
// rest of the ciphertext (whole handshake records and tickets → tls_handshake; record headers, inner content
// types, AEAD tags and alerts → tls_record) and the connection ledger books it, with the TCP segment counts, to the
// connection's row (`link`). So on a TLS connection bytes = TLS handshake + TLS record + header + framing + payload,
// and the rows still add up to the socket totals. A TLS connection closed before its inner protocol was known is
// booked under (`tls`, "").

/// The shape both connection ledgers share: socket bytes in, rows out. A ledger belongs to one connection and its
/// loop thread; the connection posts what `drain` and `close` hand back to the collector-wide `BandwidthLedger`.
public protocol ConnectionLedger {
    /// `count` bytes were read from the socket (the ground truth for bytes nothing else accounted for).
    mutating func read(_ count: Int)
    /// `count` bytes were written to the socket: books the queued output they cover, in order.
    mutating func written(_ count: Int)
    /// The transport's running TLS and segment totals: what grew since the last call is booked to the connection's
    /// row (TLS bytes and segments are connection-level).
    mutating func link(_ totals: LinkTotals)
    /// Hands over the rows settled so far.
    mutating func drain(into sink: (BandwidthKey, BandwidthCounters) -> Void)
    /// The connection closed: hands over everything left, so nothing is lost or counted twice.
    mutating func close(into sink: (BandwidthKey, BandwidthCounters) -> Void)
}
