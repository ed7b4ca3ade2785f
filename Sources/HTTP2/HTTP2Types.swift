/// One HTTP/2 header field (names are lower-case on the wire).
public struct HTTP2HeaderField: Equatable, Sendable {
    /// The field name, lower-case; pseudo-header names start with `:`.
    public var name: String
    /// The field value, as sent.
    public var value: String

    /// Makes a field from a name and a value, stored as given (no case folding).
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Array where Element == HTTP2HeaderField {
    /// The first value of `name`, if present.
    public subscript(name: String) -> String? { first { $0.name == name }?.value }
}

/// Which side of the connection a session plays.
public enum HTTP2Role: Sendable {
    case server
    case client
}

/// What a received header block is.
public enum HTTP2HeaderBlockKind: Equatable, Sendable {
    /// A request's headers (server side).
    case request
    /// A response's headers (client side); with `endStream` this is a Trailers-Only response.
    case response
    /// Trailers, or another header block after the first.
    case trailers
}

/// Something the peer did, reported synchronously while `HTTP2Session.receive` runs.
public enum HTTP2Event {
    /// A complete header block. `isTooLarge` means the block passed `maxHeaderListSize`: the fields are
    /// incomplete and the owner should refuse the stream (gRPC RESOURCE_EXHAUSTED, HTTP 431).
    case headers(streamID: Int32, kind: HTTP2HeaderBlockKind, fields: [HTTP2HeaderField], endStream: Bool,
                 isTooLarge: Bool)
    /// DATA payload for a stream; the pointer is valid only during the call. The owner must eventually call
    /// `consume(streamID:count:)` for these bytes, or the flow-control windows stay closed (that is the
    /// backpressure mechanism).
    case data(streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// The peer ended its side of the stream with a DATA frame.
    case endStream(streamID: Int32)
    /// The stream is closed in both directions (`errorCode` 0 unless reset).
    case streamClosed(streamID: Int32, errorCode: UInt32)
    /// The peer sent GOAWAY.
    case goaway(lastStreamID: Int32, errorCode: UInt32)
}

/// Receives a session's events; called on the session's thread, from inside `receive`, so it must not call
/// `receive` or `drainOutput` itself (submitting responses and data is fine).
public protocol HTTP2SessionDelegate: AnyObject {
    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event)
}

/// HTTP/2 error codes (RFC 9113 §7).
public enum HTTP2ErrorCode {
    /// NO_ERROR (0x0): a graceful GOAWAY, or a stream reset that is not a failure.
    public static let noError: UInt32 = 0
    /// PROTOCOL_ERROR (0x1): the peer broke the protocol.
    public static let protocolError: UInt32 = 1
    /// INTERNAL_ERROR (0x2): the sender failed on its own side.
    public static let internalError: UInt32 = 2
    /// FLOW_CONTROL_ERROR (0x3): a flow-control window was exceeded.
    public static let flowControlError: UInt32 = 3
    /// REFUSED_STREAM (0x7): the stream was refused before any processing, so a retry is safe.
    public static let refusedStream: UInt32 = 7
    /// CANCEL (0x8): the stream is no longer wanted (a cancelled call).
    public static let cancel: UInt32 = 8
    /// ENHANCE_YOUR_CALM (0xb): the peer is flooding; sent with GOAWAY when a flood budget runs out.
    public static let enhanceYourCalm: UInt32 = 11
}

/// A fatal session failure: the connection must be closed.
public struct HTTP2Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// nghttp2's error code.
    public var code: Int32
    /// nghttp2's description of it.
    public var message: String
    /// The code and nghttp2's message, for logs.
    public var description: String { "HTTP/2 session error \(code): \(message)" }
}

/// The limits and windows a session advertises and enforces.
public struct HTTP2Settings: Sendable {
    /// Streams the peer may have open at once (server); extra streams are refused with REFUSED_STREAM.
    public var maxConcurrentStreams: UInt32 = 100
    /// Per-stream receive window.
    public var initialWindowSize: UInt32 = 256 << 10
    /// Connection receive window.
    public var connectionWindowSize: Int32 = 1 << 20
    /// Largest header list accepted, measured like SETTINGS_MAX_HEADER_LIST_SIZE (name + value + 32 per field);
    /// nghttp2 only advertises it, the session enforces it.
    public var maxHeaderListSize: Int = 8192
    /// Queued SETTINGS/PING ACKs before the session fails as flooded (nghttp2's guard against a peer that sends
    /// PINGs but does not read the ACKs); above `floodLimits.controlFrameBurst`, so the flood guard answers first.
    public var maxOutboundAcks: Int = 200
    /// Most entries in one SETTINGS frame; more is a connection error (ENHANCE_YOUR_CALM).
    public var maxSettingsEntries: Int = 32
    /// nghttp2's own received-RST_STREAM token bucket (server): burst and refill per second. A backstop behind
    /// `floodLimits`, which resets first and answers ENHANCE_YOUR_CALM (rapid reset, CVE-2023-44487).
    public var streamResetBurst: UInt64 = 200
    /// Tokens added per second to that RST_STREAM bucket.
    public var streamResetRate: UInt64 = 20
    /// The server's flood budgets (control frames, stream resets); see HTTP2FloodGuard.
    public var floodLimits = HTTP2FloodLimits()

    /// The defaults above.
    public init() {}
}
