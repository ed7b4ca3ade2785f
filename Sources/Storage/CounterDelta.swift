/// Amounts to add to one `(protocol, device)` row of the persisted bandwidth counters.
///
/// The collector's bandwidth ledger accumulates these in memory and flushes them through
/// `TelemetryStore.addCounters`; `device` is empty for the protocol's connection overhead (bytes not attributable
/// to one device). The same struct, summed, is a row's totals in `CounterRow`.
public struct CounterDelta: Equatable, Sendable {
    /// Protocol name: "grpc", "http1", ...
    public var protocolName: String
    /// Device id, or "" for the protocol's own row.
    public var device: String
    /// All socket bytes received.
    public var bytesIn: UInt64
    /// All socket bytes sent.
    public var bytesOut: UInt64
    /// Header bytes received (HTTP/1.1 header block, HTTP/2 HEADERS payload).
    public var headerBytesIn: UInt64
    /// Header bytes sent.
    public var headerBytesOut: UInt64
    /// Framing bytes received (frame headers, length prefixes, chunk sizes).
    public var framingBytesIn: UInt64
    /// Framing bytes sent.
    public var framingBytesOut: UInt64
    /// Message body bytes received.
    public var payloadBytesIn: UInt64
    /// Message body bytes sent.
    public var payloadBytesOut: UInt64
    /// TLS handshake bytes received (whole handshake records, post-handshake messages); 0 on plaintext.
    public var tlsHandshakeBytesIn: UInt64
    /// TLS handshake bytes sent.
    public var tlsHandshakeBytesOut: UInt64
    /// TLS record overhead received (record headers, AEAD tags, padding, alerts); 0 on plaintext.
    public var tlsRecordBytesIn: UInt64
    /// TLS record overhead sent.
    public var tlsRecordBytesOut: UInt64
    /// Readings newly stored.
    public var readings: UInt64
    /// Batches received.
    public var batches: UInt64
    /// Batches that were duplicates of stored ones.
    public var duplicateBatches: UInt64
    /// Calls (gRPC calls, HTTP requests).
    public var calls: UInt64
    /// Connections accepted.
    public var connections: UInt64
    /// Failed calls or connections.
    public var errors: UInt64
    /// TCP segments received, as the kernel counted them (`TCP_INFO`).
    public var segmentsIn: UInt64
    /// TCP segments sent.
    public var segmentsOut: UInt64

    /// A delta with every amount zero unless given.
    public init(
        protocolName: String, device: String = "",
        bytesIn: UInt64 = 0, bytesOut: UInt64 = 0,
        headerBytesIn: UInt64 = 0, headerBytesOut: UInt64 = 0,
        framingBytesIn: UInt64 = 0, framingBytesOut: UInt64 = 0,
        payloadBytesIn: UInt64 = 0, payloadBytesOut: UInt64 = 0,
        tlsHandshakeBytesIn: UInt64 = 0, tlsHandshakeBytesOut: UInt64 = 0,
        tlsRecordBytesIn: UInt64 = 0, tlsRecordBytesOut: UInt64 = 0,
        readings: UInt64 = 0, batches: UInt64 = 0, duplicateBatches: UInt64 = 0,
        calls: UInt64 = 0, connections: UInt64 = 0, errors: UInt64 = 0,
        segmentsIn: UInt64 = 0, segmentsOut: UInt64 = 0
    ) {
        self.protocolName = protocolName
        self.device = device
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.headerBytesIn = headerBytesIn
        self.headerBytesOut = headerBytesOut
        self.framingBytesIn = framingBytesIn
        self.framingBytesOut = framingBytesOut
        self.payloadBytesIn = payloadBytesIn
        self.payloadBytesOut = payloadBytesOut
        self.tlsHandshakeBytesIn = tlsHandshakeBytesIn
        self.tlsHandshakeBytesOut = tlsHandshakeBytesOut
        self.tlsRecordBytesIn = tlsRecordBytesIn
        self.tlsRecordBytesOut = tlsRecordBytesOut
        self.readings = readings
        self.batches = batches
        self.duplicateBatches = duplicateBatches
        self.calls = calls
        self.connections = connections
        self.errors = errors
        self.segmentsIn = segmentsIn
        self.segmentsOut = segmentsOut
    }

    /// The amounts in the column order of the `bandwidth` table (bytes_in … segments_out).
    package var amounts: [UInt64] {
        [
            bytesIn, bytesOut, headerBytesIn, headerBytesOut, framingBytesIn, framingBytesOut,
            payloadBytesIn, payloadBytesOut, tlsHandshakeBytesIn, tlsHandshakeBytesOut, tlsRecordBytesIn,
            tlsRecordBytesOut, readings, batches, duplicateBatches, calls, connections, errors, segmentsIn, segmentsOut,
        ]
    }

    /// How many amounts a row has: the length of `amounts`.
    package static let amountCount = 20

    /// The inverse of `amounts`.
    package init(protocolName: String, device: String, amounts: [UInt64]) {
        precondition(amounts.count == Self.amountCount, "a bandwidth row has \(Self.amountCount) amounts")
        self.init(
            protocolName: protocolName, device: device,
            bytesIn: amounts[0], bytesOut: amounts[1], headerBytesIn: amounts[2], headerBytesOut: amounts[3],
            framingBytesIn: amounts[4], framingBytesOut: amounts[5], payloadBytesIn: amounts[6],
            payloadBytesOut: amounts[7], tlsHandshakeBytesIn: amounts[8], tlsHandshakeBytesOut: amounts[9],
            tlsRecordBytesIn: amounts[10], tlsRecordBytesOut: amounts[11], readings: amounts[12],
            batches: amounts[13], duplicateBatches: amounts[14], calls: amounts[15], connections: amounts[16],
            errors: amounts[17], segmentsIn: amounts[18], segmentsOut: amounts[19])
    }
}

/// One row of the persisted `bandwidth` table: everything ever added for a `(protocol, device)`.
public struct CounterRow: Equatable, Sendable {
    /// The sums of every delta added for the row (its `protocolName` and `device` name the row).
    public var totals: CounterDelta
    /// Time of the latest delta added, Unix ms.
    public var updatedMs: Int64

    /// A row with the given totals.
    public init(totals: CounterDelta, updatedMs: Int64) {
        self.totals = totals
        self.updatedMs = updatedMs
    }
}

/// Bytes and readings of one protocol in one time step of `TelemetryStore.counterHistory`.
public struct HistoryBucket: Equatable, Sendable {
    /// Start of the step, Unix ms (a multiple of the step since the epoch).
    public var startMs: Int64
    /// Protocol name.
    public var protocolName: String
    /// Socket bytes received in the step.
    public var bytesIn: UInt64
    /// Socket bytes sent in the step.
    public var bytesOut: UInt64
    /// Readings stored in the step.
    public var readings: UInt64

    /// A bucket with the given fields.
    public init(startMs: Int64, protocolName: String, bytesIn: UInt64, bytesOut: UInt64, readings: UInt64) {
        self.startMs = startMs
        self.protocolName = protocolName
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.readings = readings
    }
}
