// Attribution of HTTP/2 bytes to frames, from the bytes themselves.
//
// Invariant: every byte fed is reported in exactly one run, so the runs of a connection add up to the bytes that
// crossed its socket. nghttp2's callbacks cannot give this: they miss the 24-byte client preface, count a sent
// HEADERS+CONTINUATION as one frame, and report nothing after a connection error (grpc-nghttp2.md §0, §2.8).
// The scanner reads each 9-byte frame header (length:24, type:8, flags:8, R:1 + stream id:31) itself, even when
// the header or payload is split across reads, and attributes header and payload bytes to the frame's stream.
// Stream 0 (SETTINGS, PING, GOAWAY, connection WINDOW_UPDATE) and the preface are connection-level.

/// Which part of the HTTP/2 byte stream a run of bytes belongs to.
public enum HTTP2BytePart: Equatable, Sendable {
    /// The 24-byte client connection preface.
    case preface
    /// A 9-byte frame header.
    case frameHeader
    /// A frame's payload (for DATA, padding included).
    case payload
}

/// A run of consecutive bytes that belong to one part of one frame.
public struct HTTP2ByteRun: Equatable, Sendable {
    /// The frame's stream; 0 for connection-level frames and the preface.
    public var streamID: UInt32
    /// The frame type (0 DATA, 1 HEADERS, 2 PRIORITY, 3 RST_STREAM, 4 SETTINGS, 6 PING, 7 GOAWAY, 8 WINDOW_UPDATE,
    /// 9 CONTINUATION).
    public var frameType: UInt8
    /// Preface, frame header or payload.
    public var part: HTTP2BytePart
    /// Number of bytes.
    public var count: Int

    /// Memberwise; public so tests can build the runs they expect.
    public init(streamID: UInt32, frameType: UInt8, part: HTTP2BytePart, count: Int) {
        self.streamID = streamID
        self.frameType = frameType
        self.part = part
        self.count = count
    }
}

/// HTTP/2 frame type numbers (RFC 9113 §6).
public enum HTTP2FrameType {
    /// DATA: body bytes of a stream.
    public static let data: UInt8 = 0
    /// HEADERS: opens a stream with a header block, or carries its trailers.
    public static let headers: UInt8 = 1
    /// PRIORITY: stream prioritization (deprecated); a control frame to the flood guard.
    public static let priority: UInt8 = 2
    /// RST_STREAM: ends one stream at once, with an error code.
    public static let rstStream: UInt8 = 3
    /// SETTINGS: connection parameters; each one that is not an ACK must be acknowledged.
    public static let settings: UInt8 = 4
    /// PING: a liveness probe; each one that is not an ACK must be acknowledged.
    public static let ping: UInt8 = 6
    /// GOAWAY: the sender takes no new streams above its last stream ID.
    public static let goaway: UInt8 = 7
    /// WINDOW_UPDATE: flow-control credit for a stream, or for the connection on stream 0.
    public static let windowUpdate: UInt8 = 8
    /// CONTINUATION: the rest of a header block that did not fit in its HEADERS frame.
    public static let continuation: UInt8 = 9
}

/// Splits one direction of an HTTP/2 connection into frame runs, across any read boundaries.
public struct HTTP2FrameScanner: Sendable {
    /// Length of the client connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`.
    public static let prefaceLength = 24
    /// Length of a frame header.
    public static let frameHeaderLength = 9

    private var prefaceRemaining: Int
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    private var headerFill = 0
    private var payloadRemaining = 0
    private var streamID: UInt32 = 0
    private var frameType: UInt8 = 0
    /// Bytes scanned so far.
    public private(set) var totalBytes = 0

    /// `expectsPreface`: true for the client-to-server direction, which starts with the 24-byte preface.
    public init(expectsPreface: Bool) {
        prefaceRemaining = expectsPreface ? Self.prefaceLength : 0
    }

    /// Attributes `bytes`, calling `report` once per run, in order.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer, _ report: (HTTP2ByteRun) -> Void) {
        var offset = 0
        let count = bytes.count
        totalBytes += count
        if prefaceRemaining > 0 && count > 0 {
            let take = min(prefaceRemaining, count)
            prefaceRemaining -= take
            offset = take
            report(HTTP2ByteRun(streamID: 0, frameType: 0, part: .preface, count: take))
        }
        while offset < count {
            if payloadRemaining > 0 {
                let take = min(payloadRemaining, count - offset)
                payloadRemaining -= take
                offset += take
                report(HTTP2ByteRun(streamID: streamID, frameType: frameType, part: .payload, count: take))
                continue
            }
            // Accumulate a frame header; report it once whole, so it can be attributed to its stream.
            let take = min(Self.frameHeaderLength - headerFill, count - offset)
            withUnsafeMutableBytes(of: &header) { target in
                for i in 0..<take { target[headerFill + i] = bytes[offset + i] }
            }
            headerFill += take
            offset += take
            guard headerFill == Self.frameHeaderLength else { break }
            headerFill = 0
            let length = Int(header.0) << 16 | Int(header.1) << 8 | Int(header.2)
            frameType = header.3
            streamID = (UInt32(header.5) << 24 | UInt32(header.6) << 16 | UInt32(header.7) << 8 | UInt32(header.8))
                & 0x7FFF_FFFF
            payloadRemaining = length
            report(HTTP2ByteRun(streamID: streamID, frameType: frameType, part: .frameHeader,
                                count: Self.frameHeaderLength))
        }
    }

    /// Bytes of a frame header received but not yet whole (they are reported when the header completes; at
    /// connection close the owner books them as connection-level).
    public var partialHeaderBytes: Int { headerFill }
}
