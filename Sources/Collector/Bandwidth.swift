// Bandwidth accounting: what every byte on every socket is attributed to.
//
// Invariant (tested end to end): every byte read from and written to every socket is attributed exactly once to a
// `(protocol, device)` row, so the rows add up to the bytes that crossed the sockets. Each row also splits its bytes
// into header, framing and payload bytes, which add up to the row's bytes in each direction.
//
// Attribution rules:
// - HTTP/1.1, per request: request line + headers → header; chunked-encoding framing → framing; body → payload.
//   Response: status line + headers → header, body → payload (a `100 Continue` counts as header bytes of the
//   request it answers). `POST /v1/devices/{device}/readings` → (`rest-json`, device); any other POST, or a request
//   refused before its path is known → (`rest-json`, "") overhead; other methods → (`query`, "").
// - HTTP/2, per frame (our own scan of frame headers, `HTTP2FrameScanner`): 9-byte frame headers, control frames
//   (RST_STREAM, WINDOW_UPDATE, PRIORITY) and gRPC's 5-byte message prefixes → framing; HEADERS/CONTINUATION
//   payloads → header; DATA payload less the prefixes → payload. A stream's frames go to its protocol
//   (`grpc-stream` for Upload, `grpc-unary` for Push, `rest-json-h2` for REST over h2c, `query` for reads) and
//   device. Connection-level bytes (the 24-byte preface, SETTINGS, PING, GOAWAY, connection WINDOW_UPDATE, and
//   frames of refused or unidentified streams) go to the device of the connection while it has carried exactly one
//   device, otherwise to the overhead row ("" device) of the protocol of the connection's first stream; an h2c
//   connection that never opened a stream is booked under (`h2c`, "").

/// The protocol names of the bandwidth report.
public enum WireProtocol {
    public static let grpcStream = "grpc-stream"
    public static let grpcUnary = "grpc-unary"
    public static let restJSON = "rest-json"
    public static let restJSONH2 = "rest-json-h2"
    public static let query = "query"
    /// HTTP/2 connections that never opened a stream.
    public static let h2c = "h2c"
    /// Device name of a protocol's overhead row.
    public static let overheadDevice = ""
}

/// Bytes in one direction, split by what they carried.
public struct Traffic: Equatable, Sendable {
    /// HTTP/1.1 start lines and headers; HTTP/2 HEADERS and CONTINUATION payloads (HPACK).
    public var header: Int64 = 0
    /// Frame headers, chunk framing, gRPC message prefixes, control frames, the HTTP/2 preface.
    public var framing: Int64 = 0
    /// Message bodies: JSON or protobuf.
    public var payload: Int64 = 0

    public init(header: Int64 = 0, framing: Int64 = 0, payload: Int64 = 0) {
        self.header = header
        self.framing = framing
        self.payload = payload
    }

    /// All bytes in this direction.
    public var total: Int64 { header + framing + payload }

    public static func += (lhs: inout Traffic, rhs: Traffic) {
        lhs.header += rhs.header
        lhs.framing += rhs.framing
        lhs.payload += rhs.payload
    }
}

/// One row of the bandwidth report: what one protocol cost for one device (or its overhead row).
public struct BandwidthCounters: Equatable, Sendable {
    /// Bytes from the client.
    public var bytesIn = Traffic()
    /// Bytes to the client.
    public var bytesOut = Traffic()
    /// Readings newly stored.
    public var readings: Int64 = 0
    /// Batches received.
    public var batches: Int64 = 0
    /// Batches that were already stored.
    public var duplicateBatches: Int64 = 0
    /// gRPC calls or HTTP requests.
    public var calls: Int64 = 0
    /// Connections (counted under the row that received the connection's first request or stream).
    public var connections: Int64 = 0
    /// Calls or requests that ended in an error status.
    public var errors: Int64 = 0

    public init() {}

    /// True when nothing was counted.
    public var isZero: Bool { self == BandwidthCounters() }

    /// Wire bytes per stored reading, both directions; nil before any reading.
    public var bytesPerReading: Double? {
        readings > 0 ? Double(bytesIn.total + bytesOut.total) / Double(readings) : nil
    }

    public static func += (lhs: inout BandwidthCounters, rhs: BandwidthCounters) {
        lhs.bytesIn += rhs.bytesIn
        lhs.bytesOut += rhs.bytesOut
        lhs.readings += rhs.readings
        lhs.batches += rhs.batches
        lhs.duplicateBatches += rhs.duplicateBatches
        lhs.calls += rhs.calls
        lhs.connections += rhs.connections
        lhs.errors += rhs.errors
    }
}

/// Identifies a row: a protocol and a device ("" for the protocol's overhead row).
public struct BandwidthKey: Hashable, Sendable, Comparable {
    public var protocolName: String
    public var device: String

    public init(_ protocolName: String, _ device: String) {
        self.protocolName = protocolName
        self.device = device
    }

    public static func < (lhs: BandwidthKey, rhs: BandwidthKey) -> Bool {
        (lhs.protocolName, lhs.device) < (rhs.protocolName, rhs.device)
    }
}
